# 2D-TAN (Zhang et al., "Learning 2D Temporal Adjacent Networks for Moment Localization with
# Natural Language", AAAI 2020), pooling variant: a 2-D map of every (start, end) span of a
# T-clip grid, scored by 2-D convolutions and trained with the scaled-IoU binary cross-entropy.
# The top-level config must set model.vocab to the pipeline's GloVe vocabulary.
#
# The paper's settings per dataset (grid size, sparse sampling, map convolutions, IoU scaling);
# a config inheriting this file picks one with e.g.
#     model = dict(vocab=_base_.glove, **_base_.tan2d_charades_sta)
tan2d_tacos = dict(num_cells=128, num_dense=16, map_layers=8, kernel_size=5, iou_min=0.3,
                   iou_max=0.7)
tan2d_charades_sta = dict(num_cells=16, num_dense=None, map_layers=4, kernel_size=9,
                          iou_min=0.5, iou_max=1.0)
tan2d_activitynet = dict(num_cells=64, num_dense=16, map_layers=4, kernel_size=9, iou_min=0.5,
                         iou_max=1.0)

model = dict(
    type='TAN2DGrounder',
    vocab=None,
    video_dim=1024,
    hidden_dim=512,
    pooling='max',
    text_layers=3,
    text_rnn='lstm',
    dropout=0.1,
    topk=5,
    nms_thr=0.5,
    data_preprocessor=dict(type='GroundingDataPreprocessor', max_vlen=None),
    **tan2d_tacos)
