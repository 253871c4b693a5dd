# REAL features: CLIP ViT-L/14 image embeddings of 1,075 Charades-STA test videos ([64, 768] per
# video, float16 on disk), re-split by video into train 2,042 / val 284 / test 656 queries
# (../shared/data/charades_sta/clip_vitl14_vidmorp/README.md). Numbers on it are "Charades-STA test
# videos, re-split by video (CLIP ViT-L/14)", not the standard Charades-STA protocol.
# Checkpoints are selected on val; test is evaluated once (tools/test.py on the best checkpoint).
# Another location: --cfg-options data_root=... does not re-read the pipelines; set
# train_dataloader.dataset.ann_file etc., or edit `data_root` in a child config.
_base_ = ['./clip_features.py']

data_root = '../shared/data/charades_sta/clip_vitl14_vidmorp/'
feature_root = data_root + 'features'
glove = '../shared/data/glove_subsets/charades_glove6B_drn'
# The features' backbone (mmemtm.apis.feature_backbones): what VideoGrounder.from_video extracts.
feature_backbone = 'clip-vit-l-14'
feature_dim = 768
max_vlen = 64
max_words = 20
# Videos much longer than the training videos are grounded in sliding windows as long as the
# median training video (train.json of this set: 743 videos),
# half-overlapping (mmemtm.apis.long_video).
long_video = dict(window=30.6, stride=15.3)

pipeline_args = dict(LoadClipFeatures=dict(feature_dim=feature_dim),
                     DownsampleClips=dict(max_vlen=max_vlen),
                     TokenizeQuery=dict(vocab=glove, max_words=max_words))
train_pipeline = [dict(t, **pipeline_args.get(t.type, {})) for t in _base_.train_pipeline]
test_pipeline = [dict(t, **pipeline_args.get(t.type, {})) for t in _base_.test_pipeline]

train_dataloader = dict(
    num_workers=1,
    dataset=dict(ann_file=data_root + 'train.json', data_prefix=dict(features=feature_root),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    dataset=dict(ann_file=data_root + 'val.json', data_prefix=dict(features=feature_root),
                 pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(ann_file=data_root + 'test.json', data_prefix=dict(features=feature_root),
                 pipeline=test_pipeline))
