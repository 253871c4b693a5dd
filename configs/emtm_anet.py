# EMTM on ActivityNet Captions (docs/method.md §7): max_vlen 100, char_dim 100, dropout 0.2, KD
# temperature 3, three heterogeneous offline teachers (span: SeqPAN, 2-D map: 2D-TAN, proposals:
# SCDM) whose train-split curves are made with tools/dump_teacher_curves.py.
_base_ = [
    './_base_/grounding_runtime.py', './_base_/datasets/activitynet.py',
    './_base_/models/emtm.py', './_base_/schedules/adamw_warmup_linear.py'
]

teacher_curves = [
    'data/activitynet/teacher_curves/seqpan_train.npz',
    'data/activitynet/teacher_curves/tan2d_train.npz',
    'data/activitynet/teacher_curves/scdm_train.npz',
]
train_pipeline = [*_base_.train_pipeline[:-1], dict(type='LoadTeacherCurves', files=teacher_curves),
                  _base_.train_pipeline[-1]]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

model = dict(vocab=_base_.glove, max_vlen=_base_.max_vlen, encoder=dict(char_dim=100),
             drop_rate=0.2, loss_kd=dict(temperature=3.0))
