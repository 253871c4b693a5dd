# Control: the weak student given BOTH streams as input (appearance and motion concatenated,
# 1,536 features per clip), without distillation: what the motion stream gives when simply fed
# in, and what the distilled student (appearance only at inference) competes with.
_base_ = ['./weak_student_charades_clip.py']

streams = 'appearance_motion'
model = dict(input_streams=_base_.stream_layouts[streams], video_dim=2 * _base_.feature_dim)
train_dataloader = dict(dataset=dict(pipeline=_base_.stream_pipelines[streams]['train']))
val_dataloader = dict(dataset=dict(pipeline=_base_.stream_pipelines[streams]['test']))
test_dataloader = dict(dataset=dict(pipeline=_base_.stream_pipelines[streams]['test']))
