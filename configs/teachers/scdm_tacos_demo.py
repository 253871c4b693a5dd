# SCDM proposal teacher on the bundled TACoS demo subset (planted SYNTHETIC features,
# max_vlen 64). Scaled down for CPU: a 64-cell grid with 5 pyramid levels (32 ... 2 positions)
# and 128 channels. Schedule: the EMTM AdamW
# settings (no decay on norms/biases, clipping at norm 1) over 12 epochs at lr 1e-3: linear
# warm-up from lr/100 during the first epoch, then linear decay to lr/20.
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/tacos_demo_planted.py',
    '../_base_/models/scdm.py', '../_base_/schedules/adamw_warmup_linear.py'
]

model = dict(
    glove=_base_.glove,
    video_dim=_base_.feature_dim,
    hidden_dim=128,
    num_cells=64,
    num_levels=5)

max_epochs = 12
lr = 1e-3
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.05, by_epoch=True, begin=1,
         end=max_epochs),
]
