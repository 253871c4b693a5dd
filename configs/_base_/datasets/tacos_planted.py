# Full TACoS (VSLNet/EMTM JSON files: train 9,790 / test 4,001 queries; no val split in this
# format, so the test split is also evaluated after each epoch) with planted SYNTHETIC features
# (tools/analysis/benchmark_accuracy.py generates them into data/planted/tacos): the accuracy
# benchmark's data. CPU-scaled clip grid (max_vlen 64). Numbers measured on it are not TACoS
# results. Only what differs from the real TACoS config (./tacos.py) is set here.
_base_ = ['./tacos.py']

ann_prefix = '../shared/data/tacos/vslnet_format/'
feature_root = 'data/planted/tacos'
glove = '../shared/data/glove_subsets/tacos_glove42B_tgn'
max_vlen = 64

pipeline_args = dict(DownsampleClips=dict(max_vlen=max_vlen), TokenizeQuery=dict(vocab=glove))
train_pipeline = [dict(t, **pipeline_args.get(t.type, {})) for t in _base_.train_pipeline]
test_pipeline = [dict(t, **pipeline_args.get(t.type, {})) for t in _base_.test_pipeline]

train_dataloader = dict(
    batch_size=32,
    dataset=dict(ann_file=ann_prefix + 'train.json', data_prefix=dict(features=feature_root),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    dataset=dict(ann_file=ann_prefix + 'test.json', reader=dict(type='JsonListReader'),
                 data_prefix=dict(features=feature_root), pipeline=test_pipeline))
test_dataloader = val_dataloader
