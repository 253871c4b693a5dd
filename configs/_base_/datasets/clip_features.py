# The part every grounding data set over pre-extracted clip features shares: the train and test
# pipelines, the three dataloaders and the metric. A data set config inherits this file, states its
# paths and sizes once and fills them into the pipelines by transform type:
#     pipeline_args = dict(LoadClipFeatures=dict(feature_dim=...), DownsampleClips=dict(max_vlen=...),
#                          TokenizeQuery=dict(vocab=..., max_words=...))
#     train_pipeline = [dict(t, **pipeline_args.get(t.type, {})) for t in _base_.train_pipeline]
# then sets each dataloader's ann_file, data_prefix, pipeline (and reader) by dict merge.
dataset_type = 'GroundingDataset'

train_pipeline = [
    dict(type='LoadClipFeatures'),
    dict(type='DownsampleClips'),
    dict(type='TokenizeQuery'),
    dict(type='BuildGroundingTargets'),
    dict(type='PackGroundingInputs'),
]
test_pipeline = [
    dict(type='LoadClipFeatures'),
    dict(type='DownsampleClips'),
    dict(type='TokenizeQuery'),
    dict(type='PackGroundingInputs'),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='GroundingMetric', iou_thrs=(0.3, 0.5, 0.7), topk=(1, 5))
test_evaluator = val_evaluator
