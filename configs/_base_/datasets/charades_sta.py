# Charades-STA with pre-extracted I3D clip features.
# Expected layout:
#   data/charades_sta/{train,test}.json  [video_id, duration, [start, end], sentence] lists
#                                        (or the TALL .txt files with reader=CharadesSTAReader)
#   data/charades_sta/features/i3d/      <video_id>.npy [n_clips, 1024] + feature_shapes.json
#   data/charades_sta/glove/             word2id.json + embeds.npy
# Charades-STA has no validation split: as in the EMTM reference, the test split is evaluated
# after every epoch (checkpoint selection on it is optimistic; say so when reporting).
dataset_type = 'GroundingDataset'
ann_root = 'data/charades_sta/'
feature_root = 'data/charades_sta/features/i3d'
glove = 'data/charades_sta/glove'
feature_dim = 1024
max_vlen = 64
max_words = 20

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
        data_prefix=dict(features=feature_root),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_root + 'test.json',
        data_prefix=dict(features=feature_root),
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='GroundingMetric', iou_thrs=(0.3, 0.5, 0.7), topk=(1, 5))
test_evaluator = val_evaluator
