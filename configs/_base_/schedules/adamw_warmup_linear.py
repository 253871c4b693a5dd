# EMTM's schedule (docs/method.md §7): AdamW (no decay on norms and biases), lr 1e-6 for two
# warm-up epochs, then lr0 * (1 - epoch / max_epochs); gradient clipping at global norm 1.
# A config that changes max_epochs must rebuild param_scheduler with the new value.
max_epochs = 100
lr = 1e-4

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=lr, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
    clip_grad=dict(max_norm=1.0, norm_type=2))

# mmengine's ConstantLR restores the learning rate at its last step (end - 1), hence end=3 for
# two warm-up epochs; the LinearLR's first step (epoch 2) coincides with that restore.
param_scheduler = [
    dict(type='ConstantLR', factor=0.01, by_epoch=True, begin=0, end=3),
    dict(type='LinearLR', start_factor=(max_epochs - 2) / max_epochs,
         end_factor=1 / max_epochs, by_epoch=True, begin=2, end=max_epochs),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

auto_scale_lr = dict(enable=False, base_batch_size=16)
