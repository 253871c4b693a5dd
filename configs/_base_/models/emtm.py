# EMTM (method doc sections 3-5): shared encoder + student head (the only part run at inference),
# a co-trained SeqPAN-style teacher on the same encoder, and a Knowledge Aggregation Unit that
# weighs the curves of `num_teachers` offline teachers per sample for the label distillation.
#
# The top-level config sets the dataset-dependent values: `vocab` (the dataset config's `glove`),
# `max_vlen` (also in the KAU and the data preprocessor), `char_dim`, `drop_rate`,
# `kd_temperature`, and the teacher curve files of the train pipeline (LoadTeacherCurves).
dim = 128
num_heads = 8
num_teachers = 3

model = dict(
    type='EMTM',
    vocab=None,
    max_vlen=None,
    video_dim=1024,
    dim=dim,
    num_heads=num_heads,
    char_dim=50,
    drop_rate=0.2,
    num_teachers=num_teachers,
    aggregator=dict(type='KnowledgeAggregationUnit', dim=dim, max_vlen=None, norm='masked',
                    masked_query_pool=True),
    cotrained_attn_layers=2,
    shared_encoder=True,
    match_weight=1.0,
    kau_weight=1.0,
    kd_weight=0.1,
    kd_temperature=3.0,
    kd_mode='standard',
    curve_logits='log',
    align_weight=0.0,
    topk=5,
    nms_thr=0.5,
    max_span_len=None,
    data_preprocessor=dict(type='GroundingDataPreprocessor', max_vlen=None))
