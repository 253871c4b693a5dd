# Short CPU schedule of the demo configs (bundled TACoS subset, planted features): EMTM's AdamW
# (no decay on norms and biases, gradient clipping at 1), a linear warm-up over the first epoch
# (per iteration), then a linear decay reaching lr / 10 in the last epoch. A config that changes max_epochs must rebuild
# param_scheduler with the new value.
max_epochs = 5
lr = 2e-3

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=lr, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
    clip_grad=dict(max_norm=1.0, norm_type=2))

param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.1, by_epoch=True, begin=1,
         end=max_epochs),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

auto_scale_lr = dict(enable=False, base_batch_size=16)
