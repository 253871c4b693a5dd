# SCDM proposal teacher on the bundled TACoS demo subset (planted SYNTHETIC features,
# max_vlen 64). Scaled down for CPU: a 64-cell grid with 5 pyramid levels (32 ... 2 positions)
# and 128 channels. The short CPU schedule of the demo at lr 1e-3.
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/tacos_demo_planted.py',
    '../_base_/models/scdm.py', '../_base_/schedules/cpu_demo.py'
]

model = dict(
    vocab=_base_.glove,
    video_dim=_base_.feature_dim,
    hidden_dim=128,
    num_cells=64,
    num_levels=5)

optim_wrapper = dict(optimizer=dict(lr=1e-3))
