# SeqPAN, the architecture of EMTM's co-trained isomorphic teacher (docs/method.md §3.1-3.6):
# embedding + shared encoder + 2 dual attention blocks + CQ attention/concat + matching head +
# conditioned predictor. Set attention.num_layers=0 for EMTM's student trained alone ("BaseFast").
#
# `vocab` (the dataset config's `glove`) and `max_vlen` depend on the dataset: the top-level config
# sets them once on `model` (they, `video_dim`, `dim`, `num_heads` and `drop_rate` are filled into
# every part and `max_vlen` into the data preprocessor), e.g.
# `model = dict(vocab=_base_.glove, max_vlen=_base_.max_vlen)`. Per-dataset values of the
# reference (TACoS / Charades-STA / ActivityNet Captions): max_vlen 256 / 64 / 100,
# encoder.char_dim 50 / 100 / 100, drop_rate 0.2 / 0.4 / 0.2.
model = dict(
    type='SeqPANGrounder',
    vocab=None,
    max_vlen=None,
    video_dim=1024,
    dim=128,
    num_heads=8,
    drop_rate=0.2,
    encoder=dict(type='QueryVideoEncoder', char_dim=50),
    attention=dict(type='DualAttentionEncoder', num_layers=2, final_norm=True),
    head=dict(type='SpanGroundingHead', match_weight=1.0),
    topk=5,
    nms_thr=0.5,
    max_span_len=None,
    data_preprocessor=dict(type='GroundingDataPreprocessor'))
