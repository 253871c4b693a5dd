# Teacher and student recognizers over CLIP feature sequences ([1, 768, 8, 1, 1] per span, see
# _base_/datasets/charades_actions_clip.py): mmaction's Recognizer3D and ActionDataPreprocessor
# (no normalisation: TemporalFeatureNet layer-normalises its input) with
#   teacher: 3 temporal transformer stages at width 256 (4 heads, 2x MLP);
#   student: 3 residual temporal convolution stages (kernel 3) at width 32, projected to the
#            teacher's 256 channels (GKD's teacher CVAE reconstructs the student's features);
# both with GKD's attention head over [256, 8, 1, 1] (the teacher's also trains GKD's CVAE).
# Their stages are backbone.stages.0-2 (outputs [N, width, 8]) for the substage distillers.
# Params and FLOPs (one span): teacher 1.89 M and 14.9 M, student 0.10 M and 0.57 M (1/26).
num_classes = 157
feature_dim = 768
num_steps = 8
feature_channels = 256
data_preprocessor = dict(type='ActionDataPreprocessor', format_shape='NCTHW')
teacher_head = dict(
    type='GKDAttentionHead', num_classes=num_classes, in_channels=feature_channels,
    attention=dict(temporal_size=num_steps, spatial_size=1, mid_channels=64,
                   resample_length=num_steps),
    dropout_ratio=0.3, average_clips='prob')
teacher_model = dict(
    type='Recognizer3D',
    backbone=dict(type='TemporalFeatureNet', in_channels=feature_dim, num_steps=num_steps,
                  width=feature_channels, num_stages=3, stage_type='transformer', num_heads=4,
                  dropout=0.1),
    cls_head=dict(teacher_head, cvae=dict(type='FeatureCVAE', spatial_size=1)),
    data_preprocessor=data_preprocessor)
student_model = dict(
    type='Recognizer3D',
    backbone=dict(type='TemporalFeatureNet', in_channels=feature_dim, num_steps=num_steps,
                  width=32, num_stages=3, stage_type='conv', kernel_size=3,
                  out_channels=feature_channels, dropout=0.1),
    cls_head=dict(teacher_head, attention=dict(teacher_head['attention'], mid_channels=16)),
    data_preprocessor=data_preprocessor)
stages = ('backbone.stages.0', 'backbone.stages.1', 'backbone.stages.2')
