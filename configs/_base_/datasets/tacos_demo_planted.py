# The bundled TACoS demo subset (12/2/3 videos of the real train/val/test splits) with planted
# SYNTHETIC features (generate them with `make demo` or tools/data/generate_planted_features.py).
# Reduced clip grid (max_vlen 64 instead of TACoS's 256) so that the demo trains in minutes on CPU.
dataset_type = 'GroundingDataset'
ann_root = 'demo/data/tacos_subset/'
feature_root = 'data/planted/tacos_subset'
glove = 'demo/data/tacos_subset/glove'
feature_dim = 1024
max_vlen = 64
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
