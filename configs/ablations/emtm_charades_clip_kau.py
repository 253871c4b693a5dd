# Ablation on real CLIP features: label KD from the offline teachers mixed per query by the
# Knowledge Aggregation Unit (trained against the ground truth on the training curves, its loss
# reaching the shared encoder as in the reference), no co-trained teacher.
_base_ = ['./emtm_charades_clip_kau_in_sample.py']

model = dict(
    cotrained=None,
    aggregator=dict(_delete_=True, type='KnowledgeAggregationUnit', norm='masked',
                    masked_query_pool=True),
    detach_aggregator_inputs=False)
