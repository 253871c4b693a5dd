# 2D-TAN 2-D map teacher (the paper's settings for this data set) on the real charades_sta data set
# (dataset config: ../_base_/datasets/charades_sta.py). After training, dump its train-split curves:
#   python tools/dump_teacher_curves.py configs/teachers/tan2d_charades.py CKPT \
#       --out data/charades_sta/teacher_curves/tan2d_train.npz
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/charades_sta.py',
    '../_base_/models/tan2d.py', '../_base_/schedules/adamw_warmup_linear.py'
]

model = dict(vocab=_base_.glove, **_base_.tan2d_charades_sta)
