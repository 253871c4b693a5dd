# The student alone: GKD's top-heavy I3D (2-D up to Mixed_4c; width 0.125, as the teacher) trained
# on the labels.
_base_ = [
    '../_base_/models/recognition_kd_synthetic_motion.py', '../_base_/datasets/synthetic_motion.py',
    '../_base_/schedules/recognition_kd_cpu.py', '../_base_/recognition_kd_runtime.py'
]
model = {{_base_.student_model}}
