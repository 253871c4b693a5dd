# Ablation on real CLIP features: student + co-trained isomorphic teacher on the shared encoder,
# no offline teachers (the distillation settings are stated here, as in the student-only config).
_base_ = ['./emtm_charades_clip_student_only.py']

model = dict(
    cotrained=dict(_delete_=True,
                   attention=dict(type='DualAttentionEncoder', num_layers=2, final_norm=True),
                   shared_encoder=True))
