# The student alone on the Charades action set: 3 temporal convolution stages at width 32 (1/26
# of the teacher's FLOPs: 0.57 M against 14.9 M multiply-adds per span), trained on the labels;
# checkpoint chosen by val mAP.
_base_ = [
    '../_base_/models/recognition_kd_charades_clip.py',
    '../_base_/datasets/charades_actions_clip.py',
    '../_base_/schedules/recognition_kd_charades_clip.py', '../_base_/recognition_kd_runtime.py'
]
model = {{_base_.student_model}}
default_hooks = dict(checkpoint=dict(save_best='acc/mAP'))
