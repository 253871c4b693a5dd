# The teacher: Inception-I3D (3-D everywhere, width 0.125) with GKD's attention head and CVAE,
# trained on the synthetic motion set. Trained longer than the students (40 epochs instead of 12):
# 3-D convolutions from the first layer on learn this set more slowly than the top-heavy student
# (val top-1 66.0% after 16 epochs, 88.0% after 40; docs/recognition_kd.md).
_base_ = [
    '../_base_/models/recognition_kd_synthetic_motion.py', '../_base_/datasets/synthetic_motion.py',
    '../_base_/schedules/recognition_kd_cpu.py', '../_base_/recognition_kd_runtime.py'
]
model = {{_base_.teacher_model}}
max_epochs = 40
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=2e-5, by_epoch=True, begin=0,
         end=max_epochs)
]
