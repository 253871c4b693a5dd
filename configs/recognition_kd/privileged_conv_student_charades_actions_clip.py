# The student alone on the privileged-context input ([1, 768, 16, 1, 1]: a span's 8 steps, then
# 8 of context, the span widened by its length on each side;
# privileged_transformer_teacher_charades_actions_clip.py): the same
# student (conv_student_charades_actions_clip.py), reading the span's 8 steps only
# (read_context=False: its output does not depend on the context, its FLOPs are the student's).
_base_ = './conv_student_charades_actions_clip.py'
context_steps = 8
pipeline = [
    dict(type='LoadSpanFeatures', num_steps=8, feature_dim=768, context_steps=context_steps,
         context='surround', surround=1.0),
    dict(type='PackActionInputs', meta_keys=('sample_idx', 'multi_label', 'video_id')),
]
model = dict(backbone=dict(context_steps=context_steps, read_context=False))
train_dataloader = dict(dataset=dict(pipeline=pipeline))
val_dataloader = dict(dataset=dict(pipeline=pipeline))
test_dataloader = dict(dataset=dict(pipeline=pipeline))
