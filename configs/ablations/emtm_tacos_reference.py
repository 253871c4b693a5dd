# The EMTM reference code's behaviour where mmemtm deviates (method doc section 13): the
# double-softmax label KD without stop-gradient, curves used directly as logits, never-updated
# ("frozen") KAU batch norm, query max-pool over padding. Compare with configs/emtm_tacos.py.
_base_ = ['../emtm_tacos.py']

model = dict(
    kd_mode='reference',
    curve_logits='identity',
    aggregator=dict(norm='frozen', masked_query_pool=False))
test_evaluator = dict(quantized_gt=True)
