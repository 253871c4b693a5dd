# Ablation: a single offline teacher (the span teacher SeqPAN) through the KAU.
_base_ = ['../emtm_tacos.py']

teacher_curves = ['data/tacos/teacher_curves/seqpan_train.npz']
train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='LoadTeacherCurves', files=teacher_curves) if t.type == 'LoadTeacherCurves'
        else t for t in _base_.train_pipeline
    ]))
model = dict(num_teachers=1)
