# Two aligned feature streams of the REAL Charades-STA CLIP set (./charades_clip.py: same videos,
# same split by video, train 2,042 / val 284 / test 656 queries), for the weakly-supervised
# experiments (docs/weakly_supervised.md):
#   appearance: CLIP ViT-L/14 image embeddings, features/<video_id>.npy [64, 768];
#   motion:     motion_absdiff/<video_id>.npy [64, 768], the absolute frame-to-frame change of the
#               CLIP embeddings within each bin (see that folder's README): a motion modality the
#               appearance stream cannot give.
# `stream_pipelines[layout]` holds the train and test pipelines of each layout of streams
# (concatenated along the feature axis in the order named). Weak TRAIN pipelines never build
# boundary targets and pack no timestamp (the weak models refuse a batch that has them); the
# test pipelines keep the timestamp for the metric.
_base_ = ['./charades_clip.py']

stream_paths = dict(appearance=_base_.feature_root, motion=_base_.data_root + 'motion_absdiff')
stream_layouts = dict(
    appearance=['appearance'],
    motion=['motion'],
    appearance_motion=['appearance', 'motion'],
    appearance_x2=['appearance', 'appearance'],
)
weak_meta_keys = ('query_id', 'video_id', 'ann_index', 'sentence', 'duration', 'num_clips',
                  'v_len', 'streams')
test_meta_keys = weak_meta_keys + ('timestamp', )
stream_pipelines = {
    layout: {
        split: [
            dict(type='LoadFeatureStreams', feature_dim=_base_.feature_dim,
                 streams=[dict(name=name, path=stream_paths[name]) for name in names]),
            dict(type='DownsampleClips', max_vlen=_base_.max_vlen),
            dict(type='TokenizeQuery', vocab=_base_.glove, max_words=_base_.max_words),
            dict(type='PackGroundingInputs', meta_keys=keys),
        ]
        for split, keys in (('train', weak_meta_keys), ('test', test_meta_keys))
    }
    for layout, names in stream_layouts.items()
}

# Default: appearance only (a child states its layouts: see configs/weakly_supervised/).
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=stream_pipelines['appearance']['train']))
val_dataloader = dict(dataset=dict(pipeline=stream_pipelines['appearance']['test']))
test_dataloader = dict(dataset=dict(pipeline=stream_pipelines['appearance']['test']))
