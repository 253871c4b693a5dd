# The two-modality weak teacher (appearance + motion streams of the real Charades-STA CLIP set)
# with cross-modal mutual learning; trained from video-sentence pairs only. Checkpoint: best val
# R1@0.5 of the fused proposals.
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/charades_clip_streams.py',
    '../_base_/models/mutual_teacher.py', '../_base_/schedules/cpu_real.py'
]

streams = 'appearance_motion'
model = dict(vocab=_base_.glove, input_streams=_base_.stream_layouts[streams])
train_dataloader = dict(dataset=dict(pipeline=_base_.stream_pipelines[streams]['train']))
val_dataloader = dict(dataset=dict(pipeline=_base_.stream_pipelines[streams]['test']))
test_dataloader = dict(dataset=dict(pipeline=_base_.stream_pipelines[streams]['test']))
default_hooks = dict(checkpoint=dict(save_best='R1@0.5', max_keep_ckpts=1))
