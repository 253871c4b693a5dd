# Full TACoS (VSLNet/EMTM JSON files: train 9,790 / test 4,001 queries; no val split in this format, so the test split is also evaluated after each epoch)
# with planted SYNTHETIC features (tools/analysis/benchmark_accuracy.py generates them into
# data/planted/tacos): the accuracy benchmark's data. CPU-scaled clip grid (max_vlen 64).
# Numbers measured on it are not tacos results.
dataset_type = 'GroundingDataset'
ann_prefix = '../shared/data/tacos/vslnet_format/'
feature_root = 'data/planted/tacos'
glove = '../shared/data/glove_subsets/tacos_glove42B_tgn'
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
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_prefix + 'train.json',
        data_prefix=dict(features=feature_root),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_prefix + 'test.json',
        data_prefix=dict(features=feature_root),
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='GroundingMetric', iou_thrs=(0.3, 0.5, 0.7), topk=(1, 5))
test_evaluator = val_evaluator
