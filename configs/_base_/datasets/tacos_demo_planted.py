# The bundled TACoS demo subset (12/2/3 videos of the real train/val/test splits) with planted
# SYNTHETIC features (generate them with `make demo` or tools/data/generate_planted_features.py).
# Reduced clip grid (max_vlen 64 instead of TACoS's 256) so that the demo trains in minutes on CPU.
# Only what differs from the real TACoS config (./tacos.py) is set here.
_base_ = ['./tacos.py']

ann_root = 'demo/data/tacos_subset/'
feature_root = 'data/planted/tacos_subset'
glove = 'demo/data/tacos_subset/glove'
max_vlen = 64
# sliding windows for long videos: the median demo training video (12 videos), half-overlapping
long_video = dict(window=81.1, stride=40.55)

pipeline_args = dict(DownsampleClips=dict(max_vlen=max_vlen), TokenizeQuery=dict(vocab=glove))
train_pipeline = [dict(t, **pipeline_args.get(t.type, {})) for t in _base_.train_pipeline]
test_pipeline = [dict(t, **pipeline_args.get(t.type, {})) for t in _base_.test_pipeline]

train_dataloader = dict(
    dataset=dict(ann_file=ann_root + 'train.json', data_prefix=dict(features=feature_root),
                 pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(ann_file=ann_root + 'val.json', reader=dict(type='JsonListReader'),
                 data_prefix=dict(features=feature_root), pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(ann_file=ann_root + 'test.json', data_prefix=dict(features=feature_root),
                 pipeline=test_pipeline))
