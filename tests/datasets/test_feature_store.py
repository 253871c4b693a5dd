import json

import h5py
import numpy as np
import pytest

from mmemtm.datasets import FeatureError, HDF5FeatureStore, NpyFeatureStore, get_feature_store


@pytest.fixture
def npy_dir(tmp_path):
    np.save(tmp_path / 'v1.npy', np.arange(12, dtype=np.float32).reshape(3, 4))
    np.save(tmp_path / 'v2.npy', np.ones((5, 4), np.float64))
    (tmp_path / 'feature_shapes.json').write_text(json.dumps({'v1': 3, 'v2': 5}))
    return tmp_path


def test_npy_store(npy_dir):
    store = NpyFeatureStore(str(npy_dir))
    assert store.has('v1') and not store.has('v3')
    assert store.num_clips('v2') == 5
    feats = store.load_checked('v2', feature_dim=4)
    assert feats.dtype == np.float32 and feats.shape == (5, 4)


def test_real_i3d_features(shared_data):
    store = get_feature_store(str(shared_data / 'charades_sta' / 'i3d_k400_selfextracted'))
    assert store.load_checked('3MSZA', 1024).shape == (31, 1024)


def test_hdf5_store(tmp_path):
    path = tmp_path / 'feats.h5'
    with h5py.File(path, 'w') as f:
        f['v1'] = np.ones((7, 4), np.float32)
    store = get_feature_store(str(path))
    assert isinstance(store, HDF5FeatureStore)
    assert store.num_clips('v1') == 7 and not store.has('v2')
    assert store.load_checked('v1', 4).shape == (7, 4)


@pytest.mark.parametrize('video, dim, message', [
    ('v3', None, r'no features for video v3: .*v3.npy does not exist'),
    ('v1', 1024, r'v1.npy have dim 4, expected 1024'),
])
def test_missing_file_and_dim_mismatch(npy_dir, video, dim, message):
    with pytest.raises(FeatureError, match=message):
        NpyFeatureStore(str(npy_dir)).load_checked(video, dim)


def test_malformed_features(tmp_path):
    np.save(tmp_path / 'flat.npy', np.ones(5, np.float32))
    np.save(tmp_path / 'nan.npy', np.full((2, 3), np.nan, np.float32))
    (tmp_path / 'junk.npy').write_bytes(b'not a numpy file')
    store = NpyFeatureStore(str(tmp_path))
    with pytest.raises(FeatureError, match=r'flat.npy must be \[n_clips, dim\]'):
        store.load_checked('flat')
    with pytest.raises(FeatureError, match='nan.npy contain NaN'):
        store.load_checked('nan')
    with pytest.raises(FeatureError, match='cannot read features .*junk.npy'):
        store.load_checked('junk')
    with pytest.raises(FeatureError, match='does not exist'):
        NpyFeatureStore(str(tmp_path / 'nowhere'))
    (tmp_path / 'feature_shapes.json').write_text('[1, 2]')
    with pytest.raises(FeatureError, match='feature_shapes.json must map video ids'):
        NpyFeatureStore(str(tmp_path))
