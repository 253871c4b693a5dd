import json

import numpy as np
import pytest
from mmaction.registry import DATASETS

from mmemtm.datasets import FeatureError


def build(ann_file, features, pipeline=(), **kwargs):
    return DATASETS.build(dict(type='GroundingDataset', ann_file=str(ann_file),
                               data_prefix=dict(features=str(features)), pipeline=list(pipeline),
                               **kwargs))


def test_demo_subset_with_planted_features(demo_root, demo_planted):
    dataset = build(demo_root / 'train.json', demo_planted)
    assert len(dataset) == 976
    info = dataset[0]
    assert info['query_id'] == f'{info["video_id"]}#0'
    assert info['feature_path'] == str(demo_planted)


def test_full_pipeline(demo_root, demo_planted):
    glove = str(demo_root / 'glove')
    pipeline = [dict(type='LoadClipFeatures', feature_dim=1024),
                dict(type='DownsampleClips', max_vlen=64),
                dict(type='TokenizeQuery', vocab=glove),
                dict(type='BuildGroundingTargets'),
                dict(type='PackGroundingInputs')]
    packed = build(demo_root / 'val.json', demo_planted, pipeline)[3]
    sample = packed['data_samples']
    v_len = sample.v_len
    assert packed['inputs']['video'].shape == (v_len, 1024) and v_len <= 64
    assert packed['inputs']['words'].shape[0] == packed['inputs']['chars'].shape[0]
    assert sample.start_label.shape == (v_len,) and float(sample.start_label.sum()) == \
        pytest.approx(1.0, abs=1e-6)
    assert sample.query_id.endswith('#3') and len(sample.gt_time) == 2


def test_missing_features_name_video_and_query(tmp_path):
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps([['v1', 10.0, [1, 2], 'a man'], ['v2', 10.0, [1, 2], 'a dog']]))
    np.save(tmp_path / 'v1.npy', np.ones((4, 8), np.float32))
    with pytest.raises(FeatureError, match=r'1 video\(s\) have no features .*v2.npy \(needed by '
                       r'query v2#0\)'):
        build(ann, tmp_path)
    assert len(build(ann, tmp_path, check_features=False)) == 2


def test_invalid_records_skipped_or_raised(tmp_path):
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps([['v1', 10.0, [3, 2], 'a man'], ['v1', 10.0, [1, 2], 'a dog']]))
    np.save(tmp_path / 'v1.npy', np.ones((4, 8), np.float32))
    with pytest.raises(ValueError, match='record 0'):
        build(ann, tmp_path)
    dataset = build(ann, tmp_path, skip_invalid=True)
    assert [d['query_id'] for d in dataset] == ['v1#1']
