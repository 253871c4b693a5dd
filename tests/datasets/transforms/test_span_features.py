"""The features of a span, resampled to a fixed number of steps."""
import numpy as np
import pytest

from mmemtm.datasets import FeatureError
from mmemtm.datasets.transforms import LoadSpanFeatures, pool_video, resample_span


def ramp(n_bins=10, channels=3):
    """Bin ``i`` holds ``i`` in every channel: a linear function of time."""
    return np.repeat(np.arange(n_bins, dtype=np.float32)[:, None], channels, 1)


def test_resample_span_interpolates_between_bin_centres():
    # 10 bins over 20 s: bin i is centred at 2i + 1 s, so time t is bin position t / 2 - 0.5
    out = resample_span(ramp(), 20.0, 4.0, 12.0, 4)    # step centres 5, 7, 9, 11 s
    assert out.shape == (4, 3)
    np.testing.assert_allclose(out[:, 0], [2.0, 3.0, 4.0, 5.0])


def test_resample_span_holds_the_ends():
    out = resample_span(ramp(), 20.0, 0.0, 20.0, 20)   # centres 0.5 ... 19.5 s
    np.testing.assert_allclose(out[[0, -1], 0], [0.0, 9.0])


def test_load_span_features_gives_one_ncthw_clip(tmp_path):
    path = tmp_path / 'V.npy'
    np.save(path, ramp().astype(np.float16))
    load = LoadSpanFeatures(num_steps=4, feature_dim=3)
    results = load(dict(feature_path=str(path), duration=20.0, timestamp=[4.0, 12.0]))
    assert results['imgs'].shape == (1, 3, 4, 1, 1)
    assert results['imgs'].dtype == np.float32
    np.testing.assert_allclose(results['imgs'][0, 1, :, 0, 0], [2.0, 3.0, 4.0, 5.0])
    path.unlink()   # read once, then kept
    assert load(dict(feature_path=str(path), duration=20.0, timestamp=[4.0, 12.0]))


def test_load_span_features_names_a_file_of_the_wrong_dim(tmp_path):
    np.save(tmp_path / 'V.npy', ramp(channels=5))
    with pytest.raises(FeatureError, match='V.npy have dim 5, expected 3'):
        LoadSpanFeatures(feature_dim=3)(dict(feature_path=str(tmp_path / 'V.npy'),
                                             duration=20.0, timestamp=[1.0, 2.0]))


def test_pool_video_averages_groups_of_bins():
    np.testing.assert_allclose(pool_video(ramp(), 2)[:, 0], [2.0, 7.0])   # bins 0-4, 5-9
    np.testing.assert_allclose(pool_video(ramp(n_bins=2), 4)[:, 0], [0.0, 0.0, 1.0, 1.0])


def test_load_span_features_appends_the_video_context_after_the_span(tmp_path):
    path = tmp_path / 'V.npy'
    np.save(path, ramp().astype(np.float16))
    sample = dict(feature_path=str(path), duration=20.0, timestamp=[4.0, 12.0])
    imgs = LoadSpanFeatures(num_steps=4, feature_dim=3, context_steps=2)(dict(sample))['imgs']
    assert imgs.shape == (1, 3, 6, 1, 1)
    np.testing.assert_allclose(imgs[0, 2, :4, 0, 0], [2.0, 3.0, 4.0, 5.0])   # the span
    np.testing.assert_allclose(imgs[0, 2, 4:, 0, 0], [2.0, 7.0])             # the whole video
    span_only = LoadSpanFeatures(num_steps=4, feature_dim=3)(dict(sample))['imgs']
    np.testing.assert_allclose(imgs[:, :, :4], span_only)
    with pytest.raises(ValueError, match='context_steps must be >= 0'):
        LoadSpanFeatures(context_steps=-1)


def test_load_span_features_appends_the_widened_span_as_surround_context(tmp_path):
    path = tmp_path / 'V.npy'
    np.save(path, ramp().astype(np.float16))
    load = LoadSpanFeatures(num_steps=4, feature_dim=3, context_steps=4, context='surround',
                            surround=0.5)
    # span 8-12 s widened by 2 s on each side: 6-14 s, step centres 7, 9, 11, 13 s
    imgs = load(dict(feature_path=str(path), duration=20.0, timestamp=[8.0, 12.0]))['imgs']
    np.testing.assert_allclose(imgs[0, 0, 4:, 0, 0], [3.0, 4.0, 5.0, 6.0])
    with pytest.raises(ValueError, match='context must be one of'):
        LoadSpanFeatures(context='future')
