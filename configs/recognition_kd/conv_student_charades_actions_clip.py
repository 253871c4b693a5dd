# The student alone on the Charades action set: 3 temporal convolution stages at width 32
# (about 1/30 of the teacher's FLOPs), trained on the labels; checkpoint chosen by val mAP.
_base_ = [
    '../_base_/models/recognition_kd_charades_clip.py',
    '../_base_/datasets/charades_actions_clip.py',
    '../_base_/schedules/recognition_kd_charades_clip.py', '../_base_/recognition_kd_runtime.py'
]
model = {{_base_.student_model}}
default_hooks = dict(checkpoint=dict(save_best='acc/mAP'))
