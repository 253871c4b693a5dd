import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmemtm.datasets.transforms import (BuildGroundingTargets, DownsampleClips, LoadClipFeatures,
                                        PackGroundingInputs, TokenizeQuery, downsample_clips,
                                        match_labels, soft_boundary_label)
from mmemtm.datasets.transforms.targets import BEGIN, END, INSIDE, OUTSIDE


def test_downsample_by_bin_means():
    feats = np.arange(10, dtype=np.float32)[:, None].repeat(2, 1)
    out = downsample_clips(feats, 4)
    # bins [0, 2), [2, 5), [5, 8), [8, 10) from round(k * 10 / 4)
    np.testing.assert_allclose(out[:, 0], [0.5, 3.0, 6.0, 8.5])
    assert downsample_clips(feats, 10) is feats


@settings(deadline=None, max_examples=100)
@given(st.integers(1, 300), st.integers(1, 64))
def test_downsample_shape_and_mean(n, max_vlen):
    feats = np.random.default_rng(n).standard_normal((n, 3)).astype(np.float32)
    out = DownsampleClips(max_vlen)(dict(video_feats=feats))
    assert out['video_feats'].shape == (min(n, max_vlen), 3) and out['v_len'] == min(n, max_vlen)
    assert out['video_feats'].min() >= feats.min() - 1e-5


def test_soft_boundary_label_matches_method_doc():
    label = soft_boundary_label(3, 10)
    share = (1 - 10 * 1e-10 - 0.5) / 2
    np.testing.assert_allclose(label[[2, 3, 4]], [share, 0.5, share], rtol=1e-6)
    assert label[0] == pytest.approx(1e-10)
    edge = soft_boundary_label(0, 10)
    assert edge[0] == pytest.approx(0.5 + share) and edge[1] == pytest.approx(share)
    assert soft_boundary_label(0, 1)[0] == pytest.approx(1.0)


def test_match_labels_hand_worked():
    # begin region [0, 4], end region [8, 12]; inside 5..7
    tags = match_labels(2, 10, 14)
    assert tags.tolist() == [BEGIN] * 5 + [INSIDE] * 3 + [END] * 5 + [OUTSIDE]
    # close boundaries: begin region cut back to max(s, left(E) - 1) = 4, end wins overlap
    tags = match_labels(4, 7, 12)
    assert tags.tolist() == [0, 0, BEGIN, BEGIN, BEGIN, END, END, END, END, END, 0, 0]
    assert match_labels(3, 3, 8).tolist() == [0, END, END, END, END, END, 0, 0]
    with pytest.raises(ValueError):
        match_labels(5, 4, 8)


def test_build_targets_uses_iou_argmax():
    out = BuildGroundingTargets()(dict(timestamp=[7.62, 12.18], duration=423.06, v_len=256))
    assert out['gt_span'].tolist() == [5, 6]
    assert out['start_label'].argmax() == 5 and out['end_label'].argmax() == 6
    assert out['match_label'].shape == (256,)


def test_tokenize_query_with_unknown_words(demo_root):
    out = TokenizeQuery(str(demo_root / 'glove'), max_words=3)(
        dict(sentence='Zzyzx qwerty took out a pan', query_id='v#0'))
    assert out['tokens'] == ['zzyzx', 'qwerty', 'took']
    assert out['word_ids'].tolist()[:2] == [1, 1] and out['word_ids'][2] > 1
    assert out['char_ids'].shape == (3, 6)
    with pytest.raises(ValueError, match='query v#1: the sentence'):
        TokenizeQuery(str(demo_root / 'glove'))(dict(sentence='  ', query_id='v#1'))


def test_load_and_pack(tmp_path):
    np.save(tmp_path / 'v1.npy', np.ones((6, 8), np.float32))
    results = LoadClipFeatures(feature_dim=8)(dict(video_id='v1', feature_path=str(tmp_path)))
    assert results['num_clips'] == 6
    results.update(v_len=6, word_ids=np.array([2, 3]), char_ids=np.ones((2, 4), np.int64),
                   query_id='v1#0', video_id='v1', sentence='x', duration=12.0,
                   timestamp=[1.0, 3.0])
    results = BuildGroundingTargets()(results)
    packed = PackGroundingInputs()(results)
    assert set(packed['inputs']) == {'video', 'words', 'chars'}
    sample = packed['data_samples']
    assert sample.gt_time == [1.0, 3.0] and sample.gt_span.tolist() == [0, 1]
    with pytest.raises(ValueError, match='have dim 8, expected 4'):
        LoadClipFeatures(feature_dim=4)(dict(video_id='v1', feature_path=str(tmp_path)))
