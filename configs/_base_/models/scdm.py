# SCDM (Yuan et al., "Semantic Conditioned Dynamic Modulation for Temporal Sentence Grounding in
# Videos", NeurIPS 2019): multi-scale anchors on a stride-2 temporal convolution pyramid with
# sentence-conditioned modulation; per anchor an overlap score (BCE against IoU) and centre/width
# offsets (smooth L1 on positives). The top-level config must set model.vocab (the dataset config's glove).
#
# Grid sizes per dataset are mmemtm's choices (the grid must be divisible by 2**num_levels; the
# coarsest level has 2 positions); pick one with e.g.
#     model = dict(vocab=_base_.glove, **_base_.scdm_charades_sta)
scdm_tacos = dict(num_cells=128, num_levels=6)
scdm_charades_sta = dict(num_cells=64, num_levels=5)
scdm_activitynet = dict(num_cells=128, num_levels=6)

model = dict(
    type='SCDMGrounder',
    vocab=None,
    video_dim=1024,
    hidden_dim=256,
    anchor_ratios=(0.75, 1.0, 1.5),
    text_layers=1,
    text_rnn='lstm',
    attn_dim=128,
    dropout=0.1,
    pos_iou=0.5,
    reg_weight=1.0,
    topk=5,
    teacher_topk=10,
    nms_thr=0.5,
    data_preprocessor=dict(type='GroundingDataPreprocessor', max_vlen=None),
    **scdm_tacos)
