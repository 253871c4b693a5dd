# Ablation: the co-trained teacher has its own embedding and encoder instead of sharing the
# student's (EMTM without the Shared-Encoder strategy).
_base_ = ['../emtm_tacos.py']

model = dict(cotrained=dict(shared_encoder=False))
