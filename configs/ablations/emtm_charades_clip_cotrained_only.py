# Ablation on real CLIP features: student + co-trained isomorphic teacher on the shared encoder,
# no offline teachers.
_base_ = ['../emtm_charades_clip.py']

train_dataloader = dict(
    dataset=dict(pipeline=[t for t in _base_.train_pipeline if t.type != 'LoadTeacherCurves']))
model = dict(
    num_teachers=0,
    cotrained=dict(_delete_=True,
                   attention=dict(type='DualAttentionEncoder', num_layers=2, final_norm=True),
                   shared_encoder=True))
