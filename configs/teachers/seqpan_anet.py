# SeqPAN span teacher on the real activitynet data set (dataset config: ../_base_/datasets/activitynet.py),
# with the reference's settings (docs/method.md §7): max_vlen 100, char_dim 100, dropout 0.2.
# After training, dump its train-split curves for EMTM:
#   python tools/dump_teacher_curves.py configs/teachers/seqpan_anet.py CKPT \
#       --out data/activitynet/teacher_curves/seqpan_train.npz
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/activitynet.py',
    '../_base_/models/seqpan.py', '../_base_/schedules/adamw_warmup_linear.py'
]

model = dict(
    vocab=_base_.glove,
    max_vlen=100,
    encoder=dict(char_dim=100),
    drop_rate=0.2)
