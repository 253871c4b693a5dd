# Full Charades-STA (VSLNet/EMTM JSON files: train 12,408 / test 3,720 queries; no val split)
# with planted SYNTHETIC features (tools/analysis/benchmark_accuracy.py generates them into
# data/planted/charades): the accuracy benchmark's data. CPU-scaled clip grid (max_vlen 64).
# Numbers measured on it are not charades results.
dataset_type = 'GroundingDataset'
ann_prefix = '../shared/data/charades_sta/vslnet_'
feature_root = 'data/planted/charades'
glove = '../shared/data/glove_subsets/charades_glove42B_tgn'
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
