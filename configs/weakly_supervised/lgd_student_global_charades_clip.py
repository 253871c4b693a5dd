# Ablation: global (activation-map-level) distillation only.
_base_ = ['./lgd_student_charades_clip.py']

model = dict(loss_local=None)
