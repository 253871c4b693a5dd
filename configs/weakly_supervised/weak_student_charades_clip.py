# The weak student alone: the Gaussian-proposal grounder on the appearance stream (CLIP ViT-L/14)
# of the real Charades-STA CLIP set, trained from video-sentence pairs only (no timestamps).
# Checkpoint: best val R1@0.5. Also the "teacher branch alone: appearance" row (same model).
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/charades_clip_streams.py',
    '../_base_/models/weak_gaussian.py', '../_base_/schedules/cpu_real.py'
]

model = dict(vocab=_base_.glove, video_dim=_base_.feature_dim, input_streams=['appearance'])
default_hooks = dict(checkpoint=dict(save_best='R1@0.5', max_keep_ckpts=1))
