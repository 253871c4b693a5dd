# 2D-TAN teacher on the bundled TACoS demo subset (planted SYNTHETIC features, max_vlen 64).
# Scaled down for CPU: a 32-cell dense map with 64 channels, 4 map convolutions of kernel 3 (a
# receptive field of 9 cells, about the paper's 33 of 128 on TACoS) and a one-layer BiLSTM;
# TACoS's IoU scaling (0.3 / 0.7). The short CPU schedule of the demo.
_base_ = [
    '../_base_/grounding_runtime.py', '../_base_/datasets/tacos_demo_planted.py',
    '../_base_/models/tan2d.py', '../_base_/schedules/cpu_demo.py'
]

model = dict(
    vocab=_base_.glove,
    video_dim=_base_.feature_dim,
    hidden_dim=64,
    num_cells=32,
    num_dense=None,
    sentence_encoder=dict(num_layers=1),
    map_convs=dict(num_layers=4, kernel_size=3))
