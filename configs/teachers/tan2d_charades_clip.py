# 2D-TAN 2-D map teacher on REAL CLIP ViT-L/14 features of Charades-STA test videos, re-split by
# video (../_base_/datasets/charades_clip.py), sized for CPU: the paper's Charades-STA map (16 cells,
# 4 map layers, IoU scaling 0.5 / 1.0) with 64 channels instead of 512, kernel 5 instead of 9 and a
# one-layer BiLSTM (the paper's size, ~10 s per step of 16 queries on CPU, is
# configs/teachers/tan2d_charades.py). Checkpoint: best val R1@0.5; training stops after 3 epochs
# without a better one.
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/charades_clip.py',
    '../_base_/models/tan2d.py', '../_base_/schedules/cpu_real.py'
]

model = dict(
    vocab=_base_.glove,
    video_dim=_base_.feature_dim,
    hidden_dim=64,
    num_cells=16,
    num_dense=None,
    sentence_encoder=dict(num_layers=1),
    map_convs=dict(num_layers=4, kernel_size=5),
    loss_iou=dict(iou_min=0.5, iou_max=1.0))
default_hooks = dict(checkpoint=dict(save_best='R1@0.5', max_keep_ckpts=1))
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='EarlyStoppingHook', monitor='R1@0.5', rule='greater', patience=3),
]
