# A CPU schedule for the synthetic motion set: AdamW with a cosine decay over the epochs
# (by epoch, so it also fits TwoPassEpochBasedTrainLoop's two passes per epoch).
max_epochs = 12
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
                     clip_grad=dict(max_norm=20, norm_type=2))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=2e-5, by_epoch=True, begin=0,
         end=max_epochs)
]
auto_scale_lr = dict(enable=False, base_batch_size=16)
