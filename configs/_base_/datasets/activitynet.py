# ActivityNet Captions with pre-extracted I3D clip features, from its original annotation files.
# Expected layout:
#   data/activitynet/{train,val_1,val_2}.json  {video_id: {duration, timestamps, sentences}}
#   data/activitynet/features/i3d/             <video_id>.npy [n_clips, 1024] + feature_shapes.json
#   data/activitynet/glove/                    word2id.json + embeds.npy
# val_1 selects the checkpoint, val_2 is the test split (the EMTM reference tests on a
# val_2-derived file). The train file holds 4 records with start >= end: they are skipped and
# reported.
dataset_type = 'GroundingDataset'
ann_root = 'data/activitynet/'
feature_root = 'data/activitynet/features/i3d'
glove = 'data/activitynet/glove'
feature_dim = 1024
max_vlen = 100
max_words = 30
reader = dict(type='ActivityNetCaptionsReader')

train_pipeline = [
    dict(type='LoadClipFeatures', feature_dim=feature_dim),
    dict(type='DownsampleClips', max_vlen=max_vlen),
    dict(type='TokenizeQuery', vocab=glove, max_words=max_words),
    dict(type='BuildGroundingTargets'),
    dict(type='PackGroundingInputs'),
]
test_pipeline = [
    dict(type='LoadClipFeatures', feature_dim=feature_dim),
    dict(type='DownsampleClips', max_vlen=max_vlen),
    dict(type='TokenizeQuery', vocab=glove, max_words=max_words),
    dict(type='PackGroundingInputs'),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_root + 'train.json',
        reader=reader,
        skip_invalid=True,
        data_prefix=dict(features=feature_root),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_root + 'val_1.json',
        reader=reader,
        skip_invalid=True,
        data_prefix=dict(features=feature_root),
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_root + 'val_2.json',
        reader=reader,
        skip_invalid=True,
        data_prefix=dict(features=feature_root),
        pipeline=test_pipeline,
        test_mode=True))

val_evaluator = dict(type='GroundingMetric', iou_thrs=(0.3, 0.5, 0.7), topk=(1, 5))
test_evaluator = val_evaluator
