# 2D-TAN (Zhang et al., "Learning 2D Temporal Adjacent Networks for Moment Localization with
# Natural Language", AAAI 2020), pooling variant: a 2-D map of every (start, end) span of a
# T-clip grid, scored by 2-D convolutions and trained with the scaled-IoU binary cross-entropy.
# The top-level config must set model.vocab to the pipeline's GloVe vocabulary.
#
# The paper's settings per dataset (TACoS / Charades-STA / ActivityNet Captions), set by the
# per-dataset configs in configs/teachers/ (this file holds TACoS'):
#   num_cells 128 / 16 / 64, num_dense 16 / None / 16, map_convs.num_layers 8 / 4 / 4,
#   map_convs.kernel_size 5 / 9 / 9, loss_iou.iou_min 0.3 / 0.5 / 0.5, loss_iou.iou_max 0.7 / 1 / 1.
# `vocab`, `hidden_dim` and `dropout` are stated once and filled into the parts.
model = dict(
    type='TAN2DGrounder',
    vocab=None,
    video_dim=1024,
    hidden_dim=512,
    num_cells=128,
    pooling='max',
    num_dense=16,
    dropout=0.1,
    sentence_encoder=dict(type='GloveRNNSentenceEncoder', num_layers=3, rnn_type='lstm'),
    map_convs=dict(type='TemporalMapConvStack', num_layers=8, kernel_size=5),
    loss_iou=dict(type='ScaledIoULoss', iou_min=0.3, iou_max=0.7),
    topk=5,
    nms_thr=0.5,
    data_preprocessor=dict(type='GroundingDataPreprocessor', max_vlen=None))
