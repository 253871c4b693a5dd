# The teacher of the Charades action set: 3 temporal transformer stages (width 256) over the CLIP
# features of a span, GKD's attention head with the CVAE that GKD distils from; checkpoint chosen
# by val mAP.
_base_ = [
    '../_base_/models/recognition_kd_charades_clip.py',
    '../_base_/datasets/charades_actions_clip.py',
    '../_base_/schedules/recognition_kd_charades_clip.py', '../_base_/recognition_kd_runtime.py'
]
model = {{_base_.teacher_model}}
default_hooks = dict(checkpoint=dict(save_best='acc/mAP'))
