# 2D-TAN 2-D map teacher (the paper's settings for this data set) on the real tacos data set
# (dataset config: ../_base_/datasets/tacos.py). After training, dump its train-split curves:
#   python tools/dump_teacher_curves.py configs/teachers/tan2d_tacos.py CKPT \
#       --out data/tacos/teacher_curves/tan2d_train.npz
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/tacos.py',
    '../_base_/models/tan2d.py', '../_base_/schedules/adamw_warmup_linear.py'
]

model = dict(vocab=_base_.glove)
