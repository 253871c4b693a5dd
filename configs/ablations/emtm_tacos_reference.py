# The EMTM reference code's behaviour where mmemtm deviates (docs/method.md §13): the
# double-softmax label KD without stop-gradient, curves used directly as logits, never-updated
# ("frozen") KAU batch norm, query max-pool over padding, the co-trained branch's unnormalised
# dual-attention output, curves normalised on the teacher grid and interpolated (align corners)
# onto the student's. Compare with configs/emtm_tacos.py.
_base_ = ['../emtm_tacos.py']

train_pipeline = [
    dict(t, resample='linear', normalize=None) if t.type == 'LoadTeacherCurves' else t
    for t in _base_.train_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

model = dict(
    loss_kd=dict(mode='reference'),
    curve_logits='identity',
    cotrained=dict(attention=dict(final_norm=False)),
    aggregator=dict(norm='frozen', masked_query_pool=False))
test_evaluator = dict(quantized_gt=True)
