# Hinton KD: the top-heavy student learns from the labels and the frozen I3D teacher's logits
# (CE + KD at T = 4). Train the teacher first and point teacher_ckpt at its checkpoint:
#   python tools/train.py configs/recognition_kd/i3d_teacher_synthetic_motion.py
#   python tools/train.py configs/recognition_kd/logit_kd_synthetic_motion.py --cfg-options \
#       model.teacher_ckpt=work_dirs/i3d_teacher_synthetic_motion/best_acc_top1_epoch_N.pth
_base_ = [
    '../_base_/models/recognition_kd_synthetic_motion.py', '../_base_/datasets/synthetic_motion.py',
    '../_base_/schedules/recognition_kd_cpu.py', '../_base_/recognition_kd_runtime.py'
]
model = dict(
    type='LogitDistiller',
    student={{_base_.student_model}},
    teacher={{_base_.teacher_model}},
    teacher_ckpt='work_dirs/i3d_teacher_synthetic_motion/teacher.pth',
    loss_kd=dict(type='LogitKDLoss', temperature=4.0, loss_weight=1.0))
