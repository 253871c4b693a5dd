# TACoS with pre-extracted I3D clip features (e.g. the features released with VSLNet/EMTM).
# Expected layout (see README "Pointing a config at real features"):
#   data/tacos/{train,test}.json      [video_id, duration, [start, end], sentence] lists
#   data/tacos/val.json               TACoS val split in 2D-TAN format (frames, fps, num_frames)
#   data/tacos/features/i3d/          <video_id>.npy [n_clips, 1024] + feature_shapes.json
#   data/tacos/glove/                 word2id.json + embeds.npy (tools/data/build_glove_subset.py)
# Model selection on the val split; the test split is reported separately (docs/method.md §6.4,
# §13).
dataset_type = 'GroundingDataset'
ann_root = 'data/tacos/'
feature_root = 'data/tacos/features/i3d'
glove = 'data/tacos/glove'
feature_dim = 1024
max_vlen = 256
max_words = 30

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
        ann_file=ann_root + 'val.json',
        reader=dict(type='TACoS2DTANReader'),
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
        ann_file=ann_root + 'test.json',
        data_prefix=dict(features=feature_root),
        pipeline=test_pipeline,
        test_mode=True))

val_evaluator = dict(type='GroundingMetric', iou_thrs=(0.3, 0.5, 0.7), topk=(1, 5))
test_evaluator = val_evaluator
