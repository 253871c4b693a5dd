# The "most common relative span" baseline on the bundled TACoS demo subset (planted features).
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/tacos_demo_planted.py',
    '../_base_/models/span_prior.py', '../_base_/schedules/adamw_warmup_linear.py'
]

max_epochs = 5
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=1e-1))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)]
