# Full Charades-STA (VSLNet/EMTM JSON files: train 12,408 / test 3,720 queries; no val split)
# with planted SYNTHETIC features (tools/analysis/benchmark_accuracy.py generates them into
# data/planted/charades): the accuracy benchmark's data. Numbers measured on it are not
# Charades-STA results. Only what differs from the real Charades-STA config (./charades_sta.py)
# is set here.
_base_ = ['./charades_sta.py']

ann_prefix = '../shared/data/charades_sta/vslnet_'
feature_root = 'data/planted/charades'
glove = '../shared/data/glove_subsets/charades_glove42B_tgn'

pipeline_args = dict(TokenizeQuery=dict(vocab=glove))
train_pipeline = [dict(t, **pipeline_args.get(t.type, {})) for t in _base_.train_pipeline]
test_pipeline = [dict(t, **pipeline_args.get(t.type, {})) for t in _base_.test_pipeline]

train_dataloader = dict(
    batch_size=32,
    dataset=dict(ann_file=ann_prefix + 'train.json', data_prefix=dict(features=feature_root),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    dataset=dict(ann_file=ann_prefix + 'test.json', data_prefix=dict(features=feature_root),
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
