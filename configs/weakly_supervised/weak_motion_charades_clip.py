# Teacher branch alone, motion: the weak grounder on the motion stream only.
_base_ = ['./weak_student_charades_clip.py']

streams = 'motion'
model = dict(input_streams=_base_.stream_layouts[streams])
train_dataloader = dict(dataset=dict(pipeline=_base_.stream_pipelines[streams]['train']))
val_dataloader = dict(dataset=dict(pipeline=_base_.stream_pipelines[streams]['test']))
test_dataloader = dict(dataset=dict(pipeline=_base_.stream_pipelines[streams]['test']))
