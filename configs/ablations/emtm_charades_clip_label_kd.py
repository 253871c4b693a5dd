# Ablation on real CLIP features: EMTM's student with label KD from the plain average of the
# offline teachers' curves (the train pipeline's LoadTeacherCurves files; one file: KD from that
# teacher alone), no Knowledge Aggregation Unit and no co-trained teacher.
_base_ = ['./emtm_charades_clip_kau_in_sample.py']

model = dict(cotrained=None, aggregator=dict(_delete_=True, type='AverageTeacherAggregator'),
             detach_aggregator_inputs=False)
