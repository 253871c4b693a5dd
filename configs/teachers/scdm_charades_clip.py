# SCDM proposal teacher on REAL CLIP ViT-L/14 features of Charades-STA test videos, re-split by
# video (../_base_/datasets/charades_clip.py): mmemtm's Charades-STA grid (64 cells, 5 anchor
# levels) with the CPU schedule of the real-feature experiments. Checkpoint: best val R1@0.5;
# training stops after 3 epochs without a better one.
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/charades_clip.py',
    '../_base_/models/scdm.py', '../_base_/schedules/cpu_real.py'
]

model = dict(vocab=_base_.glove, video_dim=_base_.feature_dim, num_cells=64, num_levels=5)
default_hooks = dict(checkpoint=dict(save_best='R1@0.5', max_keep_ckpts=1))
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='EarlyStoppingHook', monitor='R1@0.5', rule='greater', patience=3),
]
