# Ablation on real CLIP features: the plain average of the three teachers instead of the KAU's
# per-sample weights.
_base_ = ['../emtm_charades_clip.py']

model = dict(aggregator=dict(_delete_=True, type='AverageTeacherAggregator'))
