# Ablation on real CLIP features: EMTM with all its published parts: the Knowledge Aggregation Unit
# (its loss reaching the shared encoder) and the co-trained isomorphic teacher on the shared
# encoder, label KD at the setting chosen on val.
_base_ = ['./emtm_charades_clip_kau.py']

model = dict(cotrained=dict(_delete_=True,
                            attention=dict(type='DualAttentionEncoder', num_layers=2,
                                           final_norm=True),
                            shared_encoder=True))
