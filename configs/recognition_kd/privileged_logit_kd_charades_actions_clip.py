# Hinton KD from the privileged teacher (privileged_transformer_teacher_charades_actions_clip.py:
# a span's 8 steps and 8 of its widened surroundings) to the student that reads the span's 8 steps
# only: logit_kd_charades_actions_clip.py on the input [1, 768, 16, 1, 1].
_base_ = './logit_kd_charades_actions_clip.py'
context_steps = 8
pipeline = [
    dict(type='LoadSpanFeatures', num_steps=8, feature_dim=768, context_steps=context_steps,
         context='surround', surround=1.0),
    dict(type='PackActionInputs', meta_keys=('sample_idx', 'multi_label', 'video_id')),
]
model = dict(
    teacher=dict(backbone=dict(context_steps=context_steps)),
    student=dict(backbone=dict(context_steps=context_steps, read_context=False)),
    teacher_ckpt='work_dirs/privileged_transformer_teacher_charades_actions_clip/teacher.pth')
train_dataloader = dict(dataset=dict(pipeline=pipeline))
val_dataloader = dict(dataset=dict(pipeline=pipeline))
test_dataloader = dict(dataset=dict(pipeline=pipeline))
