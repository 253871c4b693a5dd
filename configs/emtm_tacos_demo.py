# EMTM on the bundled TACoS demo subset with planted SYNTHETIC features (max_vlen 64), distilled
# from the three teachers trained by `make demo` (their curves in work_dirs/demo/curves/), with the
# short CPU schedule of the demo.
_base_ = [
    './_base_/grounding_runtime.py', './_base_/datasets/tacos_demo_planted.py',
    './_base_/models/emtm.py', './_base_/schedules/cpu_demo.py'
]

teacher_curves = [
    'work_dirs/demo/curves/seqpan_train.npz',
    'work_dirs/demo/curves/tan2d_train.npz',
    'work_dirs/demo/curves/scdm_train.npz',
]
train_pipeline = [*_base_.train_pipeline[:-1], dict(type='LoadTeacherCurves', files=teacher_curves),
                  _base_.train_pipeline[-1]]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

model = dict(vocab=_base_.glove, max_vlen=_base_.max_vlen, encoder=dict(char_dim=50),
             drop_rate=0.2, loss_kd=dict(temperature=3.0))
