# Teacher and student recognizers of the synthetic motion set (16 frames of 32 x 32): mmaction's
# Recognizer3D and ActionDataPreprocessor (inputs scaled to [-1, 1], as for I3D) with
#   teacher: Inception-I3D, 3-D everywhere, at an eighth of its width (128 channels at Mixed_5c);
#   student: the top-heavy I3D of GKD (2-D up to Mixed_4c, 3-D from Mixed_4d) at the same width,
# both with GKD's attention head (Mixed_5c is [128, 2, 1, 1]); the teacher's head also trains the
# CVAE that GKD distils from. mmaction's _base_/models/i3d_r50.py does not fit (its ResNet3d
# backbone and I3DHead would both be replaced).
num_classes = 10
feature_channels = 128
data_preprocessor = dict(type='ActionDataPreprocessor', mean=[127.5, 127.5, 127.5],
                         std=[127.5, 127.5, 127.5], format_shape='NCTHW')
attention = dict(temporal_size=2, spatial_size=1, mid_channels=64, resample_length=16)
student_head = dict(type='GKDAttentionHead', num_classes=num_classes,
                    in_channels=feature_channels, attention=attention, dropout_ratio=0.3,
                    average_clips='prob')
teacher_model = dict(
    type='Recognizer3D',
    backbone=dict(type='TopHeavyInceptionI3D', first_3d='conv3d_1a_7x7', width=0.125,
                  bn_momentum=0.1),
    cls_head=dict(student_head, cvae=dict(type='FeatureCVAE', spatial_size=1)),
    data_preprocessor=data_preprocessor)
student_model = dict(
    type='Recognizer3D',
    backbone=dict(type='TopHeavyInceptionI3D', first_3d='mixed_4d', width=0.125, bn_momentum=0.1),
    cls_head=student_head,
    data_preprocessor=data_preprocessor)
