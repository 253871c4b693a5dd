# REAL trimmed-action recognition set: every timestamped action instance (Charades_v1_test.csv,
# column `actions`: 157 classes) of the 1,075 Charades-STA test videos whose CLIP ViT-L/14
# features are in ../shared ([64, 768] per video), split by video exactly as the grounding set
# (train 743 / val 109 / test 223 videos: 7,358 / 1,108 / 2,284 instances). A sample is the
# features of its span resampled to `span_steps` steps ([1, 768, T, 1, 1]); its label is its
# class, its multi-label target every class of the video covering more than half of the span.
# Metrics: top-1/top-5 of the class, mAP over classes of the multi-label target (mmaction's).
# Not a standard Charades protocol: report as "Charades actions of the Charades-STA test videos,
# re-split by video (CLIP ViT-L/14 features)".
dataset_type = 'CharadesActionDataset'
data_root = '../shared/data/charades_sta/'
split_root = data_root + 'clip_vitl14_vidmorp/'
ann_file = data_root + 'Charades_v1_test.csv'
num_action_classes = 157
span_feature_dim = 768
span_steps = 8  # the models' num_steps

pipeline = [
    dict(type='LoadSpanFeatures', num_steps=span_steps, feature_dim=span_feature_dim),
    dict(type='PackActionInputs', meta_keys=('sample_idx', 'multi_label', 'video_id')),
]


dataset = dict(type=dataset_type, ann_file=ann_file, pipeline=pipeline,
               num_classes=num_action_classes, data_prefix=dict(features=split_root + 'features'))
loader = dict(batch_size=64, num_workers=0, persistent_workers=False,
              sampler=dict(type='DefaultSampler', shuffle=False))
train_dataloader = dict(loader, sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(dataset, split_file=split_root + 'train.json'))
val_dataloader = dict(loader, dataset=dict(dataset, split_file=split_root + 'val.json',
                                           test_mode=True))
test_dataloader = dict(loader, dataset=dict(dataset, split_file=split_root + 'test.json',
                                            test_mode=True))

val_evaluator = dict(type='MultiLabelAccMetric')
test_evaluator = val_evaluator
