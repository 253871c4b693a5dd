# SCDM proposal teacher (mmemtm's grid for this data set) on the real charades_sta data set
# (dataset config: ../_base_/datasets/charades_sta.py). After training, dump its train-split curves:
#   python tools/dump_teacher_curves.py configs/teachers/scdm_charades.py CKPT \
#       --out data/charades_sta/teacher_curves/scdm_train.npz
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/charades_sta.py',
    '../_base_/models/scdm.py', '../_base_/schedules/adamw_warmup_linear.py'
]

model = dict(vocab=_base_.glove, num_cells=64, num_levels=5)
