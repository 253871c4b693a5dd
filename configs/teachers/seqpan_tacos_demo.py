# SeqPAN teacher on the bundled TACoS demo subset (planted SYNTHETIC features, max_vlen 64).
# EMTM's schedule shortened for a CPU run: fewer epochs and a larger learning rate; one warm-up
# epoch at lr / 100, then lr * (1 - epoch / max_epochs).
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/tacos_demo_planted.py',
    '../_base_/models/seqpan.py', '../_base_/schedules/adamw_warmup_linear.py'
]

model = dict(
    vocab={{_base_.glove}},
    max_vlen={{_base_.max_vlen}},
    char_dim=50,
    drop_rate=0.2,
    data_preprocessor=dict(max_vlen={{_base_.max_vlen}}))

max_epochs = 20
lr = 5e-4
warmup_epochs = 1
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=lr))
# mmengine's ConstantLR scales epochs begin..end-2 and restores the learning rate at epoch end-1,
# hence end=warmup_epochs + 1.
param_scheduler = [
    dict(type='ConstantLR', factor=0.01, by_epoch=True, begin=0, end=warmup_epochs + 1),
    dict(type='LinearLR', start_factor=(max_epochs - warmup_epochs) / max_epochs,
         end_factor=1 / max_epochs, by_epoch=True, begin=warmup_epochs, end=max_epochs),
]
