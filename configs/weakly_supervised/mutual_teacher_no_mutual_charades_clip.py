# Ablation: the two-modality weak teacher without mutual learning (each branch trained with its
# own weak loss only, side by side; fused at inference as with mutual learning).
_base_ = ['./mutual_teacher_charades_clip.py']

model = dict(loss_mutual=None)
