# SCDM proposal teacher (mmemtm's grid for this data set) on the real activitynet data set
# (dataset config: ../_base_/datasets/activitynet.py). After training, dump its train-split curves:
#   python tools/dump_teacher_curves.py configs/teachers/scdm_anet.py CKPT \
#       --out data/activitynet/teacher_curves/scdm_train.npz
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/activitynet.py',
    '../_base_/models/scdm.py', '../_base_/schedules/adamw_warmup_linear.py'
]

model = dict(vocab=_base_.glove)
