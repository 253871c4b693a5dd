# SeqPAN span teacher on the bundled TACoS demo subset (planted SYNTHETIC features, max_vlen 64),
# with the short CPU schedule of the demo.
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/tacos_demo_planted.py',
    '../_base_/models/seqpan.py', '../_base_/schedules/cpu_demo.py'
]

model = dict(
    vocab=_base_.glove,
    max_vlen=_base_.max_vlen,
    encoder=dict(char_dim=50),
    drop_rate=0.2)
