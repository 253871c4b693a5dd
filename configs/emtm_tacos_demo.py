# EMTM on the bundled TACoS demo subset with planted SYNTHETIC features (max_vlen 64), distilled
# from the three teachers trained by `make demo` (their curves in work_dirs/demo/curves/).
# EMTM's schedule shortened for a CPU run: one warm-up epoch at lr / 100, then linear decay.
_base_ = [
    './_base_/grounding_runtime.py', './_base_/datasets/tacos_demo_planted.py',
    './_base_/models/emtm.py', './_base_/schedules/adamw_warmup_linear.py'
]

max_vlen = _base_.max_vlen
teacher_curves = [
    'work_dirs/demo/curves/seqpan.npz',
    'work_dirs/demo/curves/tan2d.npz',
    'work_dirs/demo/curves/scdm.npz',
]
train_pipeline = [
    *_base_.train_pipeline[:-1],
    dict(type='LoadTeacherCurves', files=teacher_curves),
    _base_.train_pipeline[-1],
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

model = dict(
    vocab=_base_.glove,
    max_vlen=max_vlen,
    char_dim=50,
    drop_rate=0.2,
    num_teachers=len(teacher_curves),
    kd_temperature=3.0,
    aggregator=dict(max_vlen=max_vlen),
    data_preprocessor=dict(max_vlen=max_vlen))

max_epochs = 20
lr = 5e-4
warmup_epochs = 1
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = [
    dict(type='ConstantLR', factor=0.01, by_epoch=True, begin=0, end=warmup_epochs + 1),
    dict(type='LinearLR', start_factor=(max_epochs - warmup_epochs) / max_epochs,
         end_factor=1 / max_epochs, by_epoch=True, begin=warmup_epochs, end=max_epochs),
]
