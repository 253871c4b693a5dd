# REAL features: CLIP ViT-L/14 image embeddings of 1,075 Charades-STA test videos ([64, 768] per
# video, float16 on disk), re-split by video into train 2,042 / val 284 / test 656 queries
# (../shared/data/charades_sta/clip_vitl14_vidmorp/README.md). Numbers on it are "Charades-STA test
# videos, re-split by video (CLIP ViT-L/14)", not the standard Charades-STA protocol.
# Checkpoints are selected on val; test is evaluated once (tools/test.py on the best checkpoint).
# Another location: --cfg-options data_root=... does not re-read the pipelines; set
# train_dataloader.dataset.ann_file etc., or edit `data_root` in a child config.
dataset_type = 'GroundingDataset'
data_root = '../shared/data/charades_sta/clip_vitl14_vidmorp/'
feature_root = data_root + 'features'
glove = '../shared/data/glove_subsets/charades_glove6B_drn'
feature_dim = 768
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
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=data_root + 'train.json',
        data_prefix=dict(features=feature_root),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=data_root + 'val.json',
        data_prefix=dict(features=feature_root),
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=data_root + 'test.json',
        data_prefix=dict(features=feature_root),
        pipeline=test_pipeline,
        test_mode=True))

val_evaluator = dict(type='GroundingMetric', iou_thrs=(0.3, 0.5, 0.7), topk=(1, 5))
test_evaluator = val_evaluator
