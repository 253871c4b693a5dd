# Weakly-supervised Gaussian-proposal grounder (our reading of CPL, CVPR 2022; see
# docs/weakly_supervised.md): K proposals (centre, width) judged by masked-word reconstruction
# from the clips they weigh, with intra-video contrast against the whole video and the
# proposal's complement. Trained from video-sentence pairs only. The top-level config sets
# model.vocab (the dataset config's glove). Sizes are mmemtm's CPU choices.
model = dict(
    type='WeakGaussianGrounder',
    vocab=None,
    video_dim=768,
    hidden_dim=64,
    num_proposals=8,
    num_heads=4,
    max_vlen=64,
    sigma=9.0,                   # CPL's Gaussian sharpness
    min_width=0.2,               # ours: without a floor the widths collapse on CLIP bins
    mask_ratio=1 / 3,            # CPL masks a third of the words
    margins=(0.1, 0.15),         # CPL's margins: vs the whole video, vs the complement
    ivc_weight=1.0,
    ref_rec_weight=1.0,
    rank_by='reconstruction',    # or 'vote'
    score_temperature=0.1,
    dropout=0.1,
    sentence_encoder=dict(type='GloveRNNSentenceEncoder', rnn_type='gru'),
    input_streams=('appearance', ),
    topk=5,
    nms_thr=0.5,
    data_preprocessor=dict(type='GroundingDataPreprocessor', max_vlen=None))
