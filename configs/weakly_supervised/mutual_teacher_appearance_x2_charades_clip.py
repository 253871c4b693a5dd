# Control: a "two-modality" teacher whose two branches both read the APPEARANCE stream (the
# branches differ only by their random initialisation), with mutual learning. It separates the
# second modality's contribution from plain two-model ensembling.
_base_ = ['./mutual_teacher_charades_clip.py']

streams = 'appearance_x2'
model = dict(input_streams=_base_.stream_layouts[streams])
train_dataloader = dict(dataset=dict(pipeline=_base_.stream_pipelines[streams]['train']))
val_dataloader = dict(dataset=dict(pipeline=_base_.stream_pipelines[streams]['test']))
test_dataloader = dict(dataset=dict(pipeline=_base_.stream_pipelines[streams]['test']))
