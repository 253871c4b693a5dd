# SeqPAN span teacher on the real charades_sta data set (dataset config: ../_base_/datasets/charades_sta.py),
# with the reference's settings (docs/method.md §7): max_vlen 64, char_dim 100, dropout 0.4.
# After training, dump its train-split curves for EMTM:
#   python tools/dump_teacher_curves.py configs/teachers/seqpan_charades.py CKPT \
#       --out data/charades_sta/teacher_curves/seqpan_train.npz
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/charades_sta.py',
    '../_base_/models/seqpan.py', '../_base_/schedules/adamw_warmup_linear.py'
]

model = dict(
    vocab=_base_.glove,
    max_vlen=64,
    encoder=dict(char_dim=100),
    drop_rate=0.4)
