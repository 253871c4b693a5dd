# Ablation: local (boundary-level) distillation only.
_base_ = ['./lgd_student_charades_clip.py']

model = dict(loss_global=None)
