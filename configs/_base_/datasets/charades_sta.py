# Charades-STA with pre-extracted I3D clip features.
# Expected layout:
#   data/charades_sta/{train,test}.json  [video_id, duration, [start, end], sentence] lists
#                                        (or the TALL .txt files with reader=CharadesSTAReader)
#   data/charades_sta/features/i3d/      <video_id>.npy [n_clips, 1024] + feature_shapes.json
#   data/charades_sta/glove/             word2id.json + embeds.npy
# Charades-STA has no validation split: as in the EMTM reference, the test split is evaluated
# after every epoch (checkpoint selection on it is optimistic; say so when reporting).
_base_ = ['./clip_features.py']

ann_root = 'data/charades_sta/'
feature_root = 'data/charades_sta/features/i3d'
glove = 'data/charades_sta/glove'
# The features' backbone (mmemtm.apis.feature_backbones): what VideoGrounder.from_video extracts.
feature_backbone = 'i3d'
feature_dim = 1024
max_vlen = 64
max_words = 20
# Videos much longer than the training videos are grounded in sliding windows as long as the
# median training video (Charades-STA train: 5,338 videos),
# half-overlapping (mmemtm.apis.long_video).
long_video = dict(window=30.6, stride=15.3)

pipeline_args = dict(LoadClipFeatures=dict(feature_dim=feature_dim),
                     DownsampleClips=dict(max_vlen=max_vlen),
                     TokenizeQuery=dict(vocab=glove, max_words=max_words))
train_pipeline = [dict(t, **pipeline_args.get(t.type, {})) for t in _base_.train_pipeline]
test_pipeline = [dict(t, **pipeline_args.get(t.type, {})) for t in _base_.test_pipeline]

train_dataloader = dict(dataset=dict(
    ann_file=ann_root + 'train.json', data_prefix=dict(features=feature_root),
    pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(
    ann_file=ann_root + 'test.json', data_prefix=dict(features=feature_root),
    pipeline=test_pipeline))
test_dataloader = val_dataloader
