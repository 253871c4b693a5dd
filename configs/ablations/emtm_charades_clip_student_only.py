# Ablation on real CLIP features: EMTM's student trained alone (no offline teachers, no co-trained
# teacher; the reference's "BaseFast"). Every distillation setting is stated here, so that this
# baseline stays the same run whatever the default EMTM config distils with.
_base_ = ['./emtm_charades_clip_kau_in_sample.py']

train_dataloader = dict(
    dataset=dict(pipeline=[t for t in _base_.train_pipeline if t.type != 'LoadTeacherCurves']))
model = dict(num_teachers=0, cotrained=None, aggregator=None, loss_kau=None, loss_kd=None,
             detach_aggregator_inputs=False)
