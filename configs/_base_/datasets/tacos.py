# TACoS with pre-extracted I3D clip features (e.g. the features released with VSLNet/EMTM).
# Expected layout (see README "Pointing a config at real features"):
#   data/tacos/{train,test}.json      [video_id, duration, [start, end], sentence] lists
#   data/tacos/val.json               TACoS val split in 2D-TAN format (frames, fps, num_frames)
#   data/tacos/features/i3d/          <video_id>.npy [n_clips, 1024] + feature_shapes.json
#   data/tacos/glove/                 word2id.json + embeds.npy (tools/data/build_glove_subset.py)
# Model selection on the val split; the test split is reported separately (docs/method.md §6.4,
# §13).
_base_ = ['./clip_features.py']

ann_root = 'data/tacos/'
feature_root = 'data/tacos/features/i3d'
glove = 'data/tacos/glove'
# The features' backbone (mmemtm.apis.feature_backbones): what VideoGrounder.from_video extracts.
feature_backbone = 'i3d'
feature_dim = 1024
max_vlen = 256
max_words = 30
# Videos much longer than the training videos are grounded in sliding windows as long as the
# median training video (TACoS train: 75 videos),
# half-overlapping (mmemtm.apis.long_video).
long_video = dict(window=158.7, stride=79.35)

pipeline_args = dict(LoadClipFeatures=dict(feature_dim=feature_dim),
                     DownsampleClips=dict(max_vlen=max_vlen),
                     TokenizeQuery=dict(vocab=glove, max_words=max_words))
train_pipeline = [dict(t, **pipeline_args.get(t.type, {})) for t in _base_.train_pipeline]
test_pipeline = [dict(t, **pipeline_args.get(t.type, {})) for t in _base_.test_pipeline]

train_dataloader = dict(dataset=dict(
    ann_file=ann_root + 'train.json', data_prefix=dict(features=feature_root),
    pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(
    ann_file=ann_root + 'val.json', reader=dict(type='TACoS2DTANReader'),
    data_prefix=dict(features=feature_root), pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(
    ann_file=ann_root + 'test.json', data_prefix=dict(features=feature_root),
    pipeline=test_pipeline))
