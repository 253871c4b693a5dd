"""Each fix of mmemtm.compat, with a check that the problem is real without it."""
import subprocess
import sys

import pytest
import torch
from mmengine.logging import HistoryBuffer

import mmemtm
from mmemtm import compat


def python(code: str, tool_env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          env=tool_env, timeout=300)


def test_mmaction_models_fail_to_import_without_the_fix(tool_env):
    proc = python('import mmaction.models', tool_env)
    assert proc.returncode != 0
    assert "No module named 'mmaction.models.localizers.drn'" in proc.stderr


def test_mmaction_models_register_with_the_fix(tool_env):
    proc = python('import mmemtm, mmaction.models\n'
                  'from mmaction.registry import MODELS\n'
                  'assert {"Recognizer3D", "ResNet3d", "TSNHead", "BMN"} <= set(MODELS.module_dict)',
                  tool_env)
    assert proc.returncode == 0, proc.stderr


def test_drn_placeholder_explains_itself():
    import mmaction.models  # noqa: F401
    from mmaction.registry import MODELS
    with pytest.raises(ImportError, match='mmaction2 1.2.0 release on PyPI does not contain'):
        MODELS.build(dict(type='DRN'))


@pytest.fixture
def mmengine_checkpoint(tmp_path):
    path = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': {'w': torch.ones(2)}, 'message_hub': {'loss': HistoryBuffer()}},
               path)
    return path


def test_checkpoints_with_mmengine_objects_fail_without_the_fix(mmengine_checkpoint, tool_env):
    proc = python('from mmengine.runner.checkpoint import _load_checkpoint\n'
                  f'_load_checkpoint({str(mmengine_checkpoint)!r})', tool_env)
    assert proc.returncode != 0 and 'weights_only' in proc.stderr


def test_checkpoints_with_mmengine_objects_load_with_the_fix(mmengine_checkpoint):
    from mmengine.runner.checkpoint import _load_checkpoint
    ckpt = _load_checkpoint(str(mmengine_checkpoint), map_location='cpu')
    assert isinstance(ckpt['message_hub']['loss'], HistoryBuffer)
    with pytest.raises(FileNotFoundError, match='can not be found'):
        _load_checkpoint(str(mmengine_checkpoint) + '.missing')


def test_pkg_resources_is_importable_and_checked(monkeypatch):
    import pkg_resources  # noqa: F401  (setuptools<82 is pinned)
    compat.check_pkg_resources()
    monkeypatch.setattr(compat.importlib.util, 'find_spec', lambda name: None)
    with pytest.raises(ImportError, match='setuptools<82'):
        compat.check_pkg_resources()


def test_fixes_are_idempotent():
    mmemtm.apply_compat_fixes()
    mmemtm.apply_compat_fixes()
    assert not compat.install_drn_placeholder()


def test_pytorch_launcher_initialises_on_cpu(tool_env):
    """Without CUDA, mmengine's launcher fails in torch.cuda.set_device; with the fix it works."""
    if torch.cuda.is_available():
        pytest.skip('the fix only matters without CUDA')
    env = dict(tool_env, MASTER_ADDR='127.0.0.1', MASTER_PORT='29533', RANK='0', WORLD_SIZE='1',
               LOCAL_RANK='0')
    init = ('from mmengine.dist import init_dist, get_world_size\n'
            "init_dist('pytorch', backend='gloo')\n"
            'import torch.distributed as dist\n'
            'print("world", get_world_size()); dist.destroy_process_group()')
    broken = subprocess.run([sys.executable, '-c', init], capture_output=True, text=True,
                            env=env, timeout=300)
    assert broken.returncode != 0 and 'cuda' in broken.stderr.lower()
    fixed = subprocess.run([sys.executable, '-c', 'import mmemtm\n' + init], capture_output=True,
                           text=True, env=env, timeout=300)
    assert fixed.returncode == 0, fixed.stderr
    assert 'world 1' in fixed.stdout


def test_ddp_wrapper_accepts_cpu_models():
    import torch.distributed as dist
    from mmemtm.engine import DeviceAwareDistributedDataParallel
    dist.init_process_group('gloo', init_method='tcp://127.0.0.1:29534', rank=0, world_size=1)
    try:
        wrapped = DeviceAwareDistributedDataParallel(torch.nn.Linear(2, 2), device_ids=[0])
        assert wrapped.device_ids is None
    finally:
        dist.destroy_process_group()
