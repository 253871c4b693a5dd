# SeqPAN span teacher on the real tacos data set (dataset config: ../_base_/datasets/tacos.py),
# with the reference's settings (docs/method.md §7): max_vlen 256, char_dim 50, dropout 0.2.
# After training, dump its train-split curves for EMTM:
#   python tools/dump_teacher_curves.py configs/teachers/seqpan_tacos.py CKPT \
#       --out data/tacos/teacher_curves/seqpan_train.npz
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/tacos.py',
    '../_base_/models/seqpan.py', '../_base_/schedules/adamw_warmup_linear.py'
]

model = dict(
    vocab=_base_.glove,
    max_vlen=256,
    encoder=dict(char_dim=50),
    drop_rate=0.2)
