# Staged KD (our reading of the abstract; docs/recognition_kd.md): the top-heavy student's
# substages (ends of I3D stages 3, 4, 5, then the logits) are distilled from the I3D teacher's
# through batch correlations, joining in a cascade (epochs 0, 2, 4, 6); a feature-distribution
# loss balances the substage losses; the labels are refined into pseudo labels with the
# teacher's predictions.
_base_ = [
    '../_base_/models/recognition_kd_synthetic_motion.py', '../_base_/datasets/synthetic_motion.py',
    '../_base_/schedules/recognition_kd_cpu.py', '../_base_/recognition_kd_runtime.py'
]
stages = ('backbone.mixed_3c', 'backbone.mixed_4f', 'backbone.mixed_5c')
model = dict(
    type='StagedDistiller',
    student={{_base_.student_model}},
    teacher={{_base_.teacher_model}},
    teacher_ckpt='work_dirs/i3d_teacher_synthetic_motion/teacher.pth',
    student_stages=stages,
    teacher_stages=stages,
    stage_epochs=(0, 2, 4, 6),
    cascade_mode='cumulative',
    loss_substage=dict(type='SubstageCorrelationLoss', mode='batch', loss_weight=10.0),
    loss_distribution=dict(type='FeatureDistributionLoss', temperature=1.0, loss_weight=1.0),
    balance='distribution',
    loss_kd=dict(type='LogitKDLoss', temperature=4.0, loss_weight=0.5),
    # num_samples: clips in train.txt (10 classes x 100 by default)
    pseudo_label=dict(num_samples=1000, momentum=0.1, start_epoch=0, source='teacher',
                      temperature=1.0))
