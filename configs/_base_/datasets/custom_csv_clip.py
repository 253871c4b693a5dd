# YOUR OWN DATA SET: a folder of videos and a CSV of sentences, with CLIP ViT-L/14 features
# (docs/your_own_dataset.md walks through it). One folder holds it all:
#   <data_root>/videos/<video_id>.mp4        the videos (any ending decord reads)
#   <data_root>/sentences.csv                video,start,end,sentence[,duration][,split] (seconds)
#   <data_root>/features/clip_vitl14/        <video_id>.npy [64, 768] + feature_shapes.json, made by
#                                            tools/extract_features.py --backbone clip-vit-l-14
#   <data_root>/glove/                       word2id.json + embeds.npy, made by
#                                            tools/data/build_glove_subset.py
# data_root is data/my_dataset, or the environment variable MMEMTM_DATA_ROOT when it is set:
#   MMEMTM_DATA_ROOT=/path/to/folder python tools/train.py configs/custom/student_custom_csv_clip.py
# (--cfg-options data_root=... would not reach the paths below: they are computed when this file
# is read; single paths can still be overridden, e.g. train_dataloader.dataset.ann_file=...).
# Splits: the CSV's "split" column (train / val / test), else the CSVReader's split rule (80 / 10
# / 10 % of the videos by a stable hash of their id). Durations: the "duration" column, else the
# video files. Checkpoints are selected on val; test is evaluated once (tools/test.py).
_base_ = ['./clip_features.py']

data_root = '{{$MMEMTM_DATA_ROOT:data/my_dataset}}/'
ann_file = data_root + 'sentences.csv'
feature_root = data_root + 'features/clip_vitl14'
glove = data_root + 'glove'
# The features' backbone (mmemtm.apis.feature_backbones): what VideoGrounder.from_video extracts.
feature_backbone = 'clip-vit-l-14'
feature_dim = 768
max_vlen = 64
max_words = 20

pipeline_args = dict(LoadClipFeatures=dict(feature_dim=feature_dim),
                     DownsampleClips=dict(max_vlen=max_vlen),
                     TokenizeQuery=dict(vocab=glove, max_words=max_words))
train_pipeline = [dict(t, **pipeline_args.get(t.type, {})) for t in _base_.train_pipeline]
test_pipeline = [dict(t, **pipeline_args.get(t.type, {})) for t in _base_.test_pipeline]


train_dataloader = dict(
    num_workers=1,
    dataset=dict(ann_file=ann_file, reader=dict(type='CSVReader', split='train'),
                 data_prefix=dict(features=feature_root), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    dataset=dict(ann_file=ann_file, reader=dict(type='CSVReader', split='val'),
                 data_prefix=dict(features=feature_root), pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(ann_file=ann_file, reader=dict(type='CSVReader', split='test'),
                 data_prefix=dict(features=feature_root), pipeline=test_pipeline))
