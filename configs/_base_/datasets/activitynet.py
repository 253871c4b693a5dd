# ActivityNet Captions with pre-extracted I3D clip features, from its original annotation files.
# Expected layout:
#   data/activitynet/{train,val_1,val_2}.json  {video_id: {duration, timestamps, sentences}}
#   data/activitynet/features/i3d/             <video_id>.npy [n_clips, 1024] + feature_shapes.json
#   data/activitynet/glove/                    word2id.json + embeds.npy
# val_1 selects the checkpoint, val_2 is the test split (the EMTM reference tests on a
# val_2-derived file). The train file holds 4 records with start >= end: they are skipped and
# reported.
_base_ = ['./clip_features.py']

ann_root = 'data/activitynet/'
feature_root = 'data/activitynet/features/i3d'
glove = 'data/activitynet/glove'
# The features' backbone (mmemtm.apis.feature_backbones): what VideoGrounder.from_video extracts.
feature_backbone = 'i3d'
feature_dim = 1024
max_vlen = 100
max_words = 30
# Videos much longer than the training videos are grounded in sliding windows as long as the
# median training video (ActivityNet Captions train: 10,009 videos),
# half-overlapping (mmemtm.apis.long_video).
long_video = dict(window=113.9, stride=56.95)
reader = dict(type='ActivityNetCaptionsReader')

pipeline_args = dict(LoadClipFeatures=dict(feature_dim=feature_dim),
                     DownsampleClips=dict(max_vlen=max_vlen),
                     TokenizeQuery=dict(vocab=glove, max_words=max_words))
train_pipeline = [dict(t, **pipeline_args.get(t.type, {})) for t in _base_.train_pipeline]
test_pipeline = [dict(t, **pipeline_args.get(t.type, {})) for t in _base_.test_pipeline]

splits = dict(reader=reader, skip_invalid=True, data_prefix=dict(features=feature_root))
train_dataloader = dict(dataset=dict(ann_file=ann_root + 'train.json', **splits,
                                     pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(ann_file=ann_root + 'val_1.json', **splits,
                                   pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(ann_file=ann_root + 'val_2.json', **splits,
                                    pipeline=test_pipeline))
