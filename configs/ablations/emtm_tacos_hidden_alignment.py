# Ablation: EMTM on TACoS plus the hidden-state alignment of the fused features of student and
# co-trained teacher (an optional loss of the method's first version, off in the reference code
# and in configs/emtm_tacos.py; docs/method.md §5.6).
_base_ = ['../emtm_tacos.py']

model = dict(loss_align=dict(_delete_=True, type='HiddenAlignmentLoss', loss_weight=0.1))
