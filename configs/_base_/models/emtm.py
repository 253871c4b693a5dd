# EMTM (docs/method.md §3-5): shared encoder + student head (the only part run at inference),
# a co-trained SeqPAN-style teacher on the same encoder, and a Knowledge Aggregation Unit that
# weighs the curves of `num_teachers` offline teachers per sample for the label distillation.
#
# The parts are nested configs. The facts they share (`vocab`, `max_vlen`, `video_dim`, `dim`,
# `num_heads`, `drop_rate`) are set once on `model` and filled into every part (and `max_vlen`
# into the data preprocessor); the top-level config sets the dataset-dependent ones: `vocab` (the
# dataset config's `glove`), `max_vlen`, `encoder.char_dim`, `drop_rate`, `loss_kd.temperature`,
# and the teacher curve files of the train pipeline (LoadTeacherCurves).
model = dict(
    type='EMTM',
    vocab=None,
    max_vlen=None,
    video_dim=1024,
    dim=128,
    num_heads=8,
    drop_rate=0.2,
    encoder=dict(type='QueryVideoEncoder', char_dim=50),
    student_head=dict(type='SpanGroundingHead', match_weight=1.0),
    cotrained=dict(attention=dict(type='DualAttentionEncoder', num_layers=2, final_norm=True),
                   shared_encoder=True),
    num_teachers=3,
    aggregator=dict(type='KnowledgeAggregationUnit', norm='masked', masked_query_pool=True),
    loss_kau=dict(type='SoftBoundaryLoss', loss_weight=1.0),
    loss_kd=dict(type='LabelKDLoss', temperature=3.0, mode='standard', loss_weight=0.1),
    loss_align=None,
    curve_logits='log',
    topk=5,
    nms_thr=0.5,
    max_span_len=None,
    data_preprocessor=dict(type='GroundingDataPreprocessor'))
