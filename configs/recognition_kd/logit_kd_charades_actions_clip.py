# Hinton KD on the Charades action set: the convolution student learns from the labels and the
# frozen transformer teacher's logits (CE + KD). Train the teacher first:
#   python tools/train.py configs/recognition_kd/transformer_teacher_charades_actions_clip.py
#   python tools/train.py configs/recognition_kd/logit_kd_charades_actions_clip.py \
#       --cfg-options model.teacher_ckpt=$TEACHER   # best_acc_mAP_epoch_N.pth of the teacher
# The other temperature tried on val:
# mmemtm/benchmarks/recognition_kd_charades.py (SWEEPS).
_base_ = [
    '../_base_/models/recognition_kd_charades_clip.py',
    '../_base_/datasets/charades_actions_clip.py',
    '../_base_/schedules/recognition_kd_charades_clip.py', '../_base_/recognition_kd_runtime.py'
]
model = dict(
    type='LogitDistiller',
    student={{_base_.student_model}},
    teacher={{_base_.teacher_model}},
    teacher_ckpt='work_dirs/transformer_teacher_charades_actions_clip/teacher.pth',
    loss_kd=dict(type='LogitKDLoss', temperature=4.0, loss_weight=1.0))
default_hooks = dict(checkpoint=dict(save_best='acc/mAP'))
