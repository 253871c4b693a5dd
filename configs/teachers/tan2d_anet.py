# 2D-TAN 2-D map teacher (the paper's settings for this data set) on the real activitynet data set
# (dataset config: ../_base_/datasets/activitynet.py). After training, dump its train-split curves:
#   python tools/dump_teacher_curves.py configs/teachers/tan2d_anet.py CKPT \
#       --out data/activitynet/teacher_curves/tan2d_train.npz
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/activitynet.py',
    '../_base_/models/tan2d.py', '../_base_/schedules/adamw_warmup_linear.py'
]

model = dict(
    vocab=_base_.glove,
    num_cells=64,
    map_convs=dict(num_layers=4, kernel_size=9),
    loss_iou=dict(iou_min=0.5, iou_max=1.0))
