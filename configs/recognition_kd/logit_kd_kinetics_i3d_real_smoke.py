# Smoke check on real video (not an accuracy claim): DeepMind's Kinetics-400 I3D (real weights)
# is the frozen teacher; the student is the top-heavy I3D deflated from the same weights (2-D up
# to Mixed_4c) with the teacher's classifier; Hinton KD on 16-frame 224 x 224 windows of the
# videos in shared/data/videos, labelled by the teacher's top-1 class. Prepared and run by
#   python tools/analysis/benchmark_recognition_kd.py --real-smoke ../shared/data
# which cuts the windows, converts the weights and fills in the paths below.
_base_ = ['../_base_/recognition_kd_runtime.py']

data_root = 'work_dirs/recognition_kd_real_smoke/windows'
kinetics_checkpoint = 'i3d_kinetics400_rgb_deepmind.pth'            # InceptionI3D weights
recognizer_checkpoint = 'i3d_kinetics400_recognizer.pth'            # the same as a Recognizer3D
data_preprocessor = dict(type='ActionDataPreprocessor', mean=[127.5, 127.5, 127.5],
                         std=[127.5, 127.5, 127.5], format_shape='NCTHW')
teacher = dict(type='Recognizer3D', backbone=dict(type='InceptionI3D', num_classes=0),
               cls_head=dict(type='I3DLogitsHead', num_classes=400, in_channels=1024,
                             average_clips='prob'),
               data_preprocessor=data_preprocessor)
student = dict(
    type='Recognizer3D',
    backbone=dict(type='TopHeavyInceptionI3D', first_3d='mixed_4d', norm_eval=True,
                  deflate=dict(checkpoint=kinetics_checkpoint, mode='sum')),
    cls_head=dict(type='I3DLogitsHead', num_classes=400, in_channels=1024,
                  average_clips='prob',
                  init_cfg=dict(type='Pretrained', checkpoint=recognizer_checkpoint,
                                prefix='cls_head.')),
    data_preprocessor=data_preprocessor)
model = dict(type='LogitDistiller', student=student, teacher=teacher,
             teacher_ckpt=recognizer_checkpoint,
             loss_kd=dict(type='LogitKDLoss', temperature=1.0, loss_weight=1.0))

pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=1, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', meta_keys=('img_shape', 'sample_idx')),
]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='VideoDataset', ann_file=f'{data_root}/windows.txt',
                 data_prefix=dict(video=data_root), pipeline=pipeline))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_begin=2)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=5e-4))
param_scheduler = []
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, save_best=None,
                                     max_keep_ckpts=1))
