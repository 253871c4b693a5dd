# SeqPAN, the architecture of EMTM's co-trained isomorphic teacher (method doc, sections 3.1-3.6):
# embedding + shared encoder + 2 dual attention blocks + CQ attention/concat + matching head +
# conditioned predictor. Set num_attn_layers=0 for EMTM's student trained alone ("BaseFast").
#
# `vocab` (the dataset config's `glove`) and `max_vlen` depend on the dataset: the top-level config
# must set them, e.g. `model = dict(vocab={{_base_.glove}}, max_vlen={{_base_.max_vlen}},
# data_preprocessor=dict(max_vlen={{_base_.max_vlen}}))`. Per-dataset values of the reference
# (TACoS / Charades-STA / ActivityNet Captions): max_vlen 256 / 64 / 100, char_dim 50 / 100 / 100,
# drop_rate 0.2 / 0.4 / 0.2 (set them on `model`, the variables below are not re-read).
dim = 128
num_heads = 8
char_dim = 50
drop_rate = 0.2
num_attn_layers = 2
match_weight = 1.0

model = dict(
    type='SeqPANGrounder',
    vocab=None,
    max_vlen=None,
    video_dim=1024,
    dim=dim,
    num_heads=num_heads,
    char_dim=char_dim,
    drop_rate=drop_rate,
    num_attn_layers=num_attn_layers,
    match_weight=match_weight,
    topk=5,
    nms_thr=0.5,
    max_span_len=None,
    data_preprocessor=dict(type='GroundingDataPreprocessor', max_vlen=None))
