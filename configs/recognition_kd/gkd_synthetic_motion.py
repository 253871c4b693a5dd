# GKD: generative feature distillation from the frozen I3D teacher's attention and CVAE, two
# passes per epoch (the CVAE pass, then the student pass) with one optimiser each.
# Published settings kept: CVAE loss MSE + 0.1 KL, generative distillation 0.01, attention
# distillation 0.1, reconstruction term 0.5 ramped in linearly, Adam for the CVAE. Changed for
# 12 CPU epochs from scratch: the ramp lasts 3 epochs instead of 20,
# the CVAE's learning rate is 1e-3 instead of 1e-4, and the student uses the same AdamW schedule as
# every other row (GKD fine-tunes with SGD 1e-3, momentum 0.9, weight decay 5e-4).
_base_ = [
    '../_base_/models/recognition_kd_synthetic_motion.py', '../_base_/datasets/synthetic_motion.py',
    '../_base_/schedules/recognition_kd_cpu.py', '../_base_/recognition_kd_runtime.py'
]
model = dict(
    type='GenerativeFeatureDistiller',
    student={{_base_.student_model}},
    teacher={{_base_.teacher_model}},
    teacher_ckpt='work_dirs/i3d_teacher_synthetic_motion/teacher.pth',
    cvae=dict(type='FeatureCVAE', spatial_size=1),
    loss_cvae=dict(type='CVAELoss', kl_weight=0.1, loss_weight=1.0),
    loss_generative=dict(type='FeatureMSELoss', loss_weight=0.01),
    loss_attention=dict(type='FeatureMSELoss', loss_weight=0.1),
    loss_reconstruction=dict(type='RampedMSELoss', loss_weight=0.5, ramp_epochs=3))
train_cfg = dict(type='TwoPassEpochBasedTrainLoop', phases=('cvae', 'student'))
optim_wrapper = dict(
    _delete_=True,
    constructor='PartsOptimWrapperConstructor',
    student=dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
                 clip_grad=dict(max_norm=20, norm_type=2)),
    cvae=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3, betas=(0.8, 0.999))))
# Multi-process training: each pass leaves the other pass's part without gradient.
model_wrapper_cfg = dict(type='mmaction.DeviceAwareDistributedDataParallel',
                         find_unused_parameters=True)
