# SCDM (Yuan et al., "Semantic Conditioned Dynamic Modulation for Temporal Sentence Grounding in
# Videos", NeurIPS 2019): multi-scale anchors on a stride-2 temporal convolution pyramid with
# sentence-conditioned modulation; per anchor an overlap score (BCE against IoU) and centre/width
# offsets (smooth L1 on positives). The top-level config must set model.vocab (the dataset config's glove).
#
# Grid sizes per dataset are mmemtm's choices (the grid must be divisible by 2**num_levels; the
# coarsest level has 2 positions), set by the per-dataset configs in configs/teachers/ (this file
# holds TACoS'): num_cells 128 / 64 / 128 and num_levels 6 / 5 / 6 for TACoS / Charades-STA /
# ActivityNet Captions. `vocab`, `hidden_dim` and `dropout` are filled into the parts.
model = dict(
    type='SCDMGrounder',
    vocab=None,
    video_dim=1024,
    hidden_dim=256,
    num_cells=128,
    num_levels=6,
    anchor_ratios=(0.75, 1.0, 1.5),
    attn_dim=128,
    dropout=0.1,
    sentence_encoder=dict(type='GloveRNNSentenceEncoder', num_layers=1, rnn_type='lstm'),
    loss_overlap=dict(type='BCELossWithLogits', loss_weight=1.0),
    loss_reg=dict(type='AnchorRegressionLoss', pos_iou=0.5, loss_weight=1.0),
    topk=5,
    teacher_topk=10,
    nms_thr=0.5,
    data_preprocessor=dict(type='GroundingDataPreprocessor', max_vlen=None))
