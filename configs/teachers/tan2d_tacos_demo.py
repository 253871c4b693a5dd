# 2D-TAN teacher on the bundled TACoS demo subset (planted SYNTHETIC features, max_vlen 64).
# Scaled down for CPU: a 32-cell dense map with 64 channels, 4 map convolutions of kernel 3 (a
# receptive field of 9 cells, about the paper's 33 of 128 on TACoS) and a one-layer BiLSTM;
# TACoS's IoU scaling (0.3 / 0.7). Schedule: the EMTM AdamW settings (no decay
# on norms/biases, clipping at norm 1) over 12 epochs at lr 2e-3: linear warm-up from lr/100
# during the first epoch, then linear decay to lr/20.
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/tacos_demo_planted.py',
    '../_base_/models/tan2d.py', '../_base_/schedules/adamw_warmup_linear.py'
]

model = dict(
    glove=_base_.glove,
    video_dim=_base_.feature_dim,
    hidden_dim=64,
    num_cells=32,
    num_dense=None,
    map_layers=4,
    kernel_size=3,
    text_layers=1)

max_epochs = 12
lr = 2e-3
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.05, by_epoch=True, begin=1,
         end=max_epochs),
]
