# Control: local-global distillation from the appearance x 2 control teacher
# (./mutual_teacher_appearance_x2_charades_clip.py: two appearance branches with mutual
# learning). A gain here is ensembling's, not the motion stream's.
_base_ = ['./lgd_student_charades_clip.py']

streams = 'appearance_x2'
model = dict(teacher_streams=_base_.stream_layouts[streams])
train_dataloader = dict(dataset=dict(pipeline=_base_.stream_pipelines[streams]['train']))
