"""Each fix of mmemtm.compat, with a check that the problem is real without it."""
import argparse
import logging
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MMLogger

import mmemtm
from mmemtm import compat
from mmemtm.compat import CheckpointReadError, CheckpointTrustError, trusted_checkpoints

STUDENT_CONFIG = str(Path(__file__).resolve().parents[1] / 'configs' / 'ablations' /
                     'student_only_tacos_demo.py')


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
    # as mmengine's message hub makes them: buffers start with a value (an empty one would also
    # need builtins.bytes, which no training checkpoint holds)
    torch.save({'state_dict': {'w': torch.ones(2)},
                'message_hub': {'loss': HistoryBuffer([0.5], [1])}}, path)
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


class CallsGetattr:
    """Pickles as ``getattr(owner, name)``: builtins.getattr in another form than mmengine's."""

    def __init__(self, owner, name: str) -> None:
        self.owner, self.name = owner, name

    def __reduce__(self):
        return getattr, (self.owner, self.name)


@pytest.fixture
def warnings_logged():
    """Messages of the warnings logged to mmengine's current logger during the test."""
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_every_loader_refuses_a_checkpoint_that_runs_code(tmp_path, payload):
    from mmengine.runner import CheckpointLoader, load_checkpoint
    from mmengine.runner.checkpoint import _load_checkpoint

    from mmemtm.apis import read_checkpoint_weights
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {'weight': torch.ones(2)}, 'meta': payload}, path)
    loaders = [lambda: _load_checkpoint(path, map_location='cpu'),
               lambda: CheckpointLoader.load_checkpoint(path, map_location='cpu'),
               lambda: load_checkpoint(torch.nn.Linear(2, 1), path, map_location='cpu'),
               lambda: read_checkpoint_weights(path)]
    for load in loaders:
        with pytest.raises(CheckpointTrustError, match=r'checkpoint .*evil\.pth was refused: it '
                           r'needs (posix|nt)\.system, .*--trust-checkpoint'):
            load()
    assert not payload.marker.exists()


def test_runner_load_from_and_resume_refuse_a_checkpoint_that_runs_code(tmp_path, payload):
    from mmengine.config import Config
    from mmengine.runner import Runner
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'meta': payload}, path)
    cfg = Config.fromfile(STUDENT_CONFIG)
    cfg.merge_from_dict(dict(model=dict(dim=32, num_heads=4, encoder=dict(char_dim=8)), load_from=path,
                             resume=False, work_dir=str(tmp_path / 'work')))
    runner = Runner.from_cfg(cfg)
    with pytest.raises(CheckpointTrustError, match=r'evil\.pth was refused: it needs '):
        runner.load_or_resume()
    with pytest.raises(CheckpointTrustError, match=r'evil\.pth was refused: it needs '):
        runner.resume(path)
    assert not payload.marker.exists()


def test_getattr_is_allowed_only_as_history_buffer_uses_it(tmp_path):
    for owner, name in [(HistoryBuffer, 'update'), (np.ndarray, 'tofile')]:
        path = tmp_path / f'{name}.pth'
        torch.save({'meta': CallsGetattr(owner, name)}, path)
        with pytest.raises(CheckpointTrustError, match=rf'needs builtins\.getattr, .*got '
                           rf'getattr\(.*, .{name}.\)'):
            compat.load_local_checkpoint(str(path))
    buffer = HistoryBuffer([1.0, 3.0], [1, 1])
    torch.save({'meta': buffer}, tmp_path / 'buffer.pth')
    assert compat.load_local_checkpoint(str(tmp_path / 'buffer.pth'))['meta'].mean() == 2.0


def test_a_trained_checkpoint_needs_exactly_the_allowlist(planted_student):
    """Each allowed global is needed by a checkpoint of tools/train.py (message hub, random
    states), and nothing else is."""
    path = planted_student['checkpoint']
    checkpoint = compat.load_local_checkpoint(path, map_location='cpu')
    assert {'state_dict', 'message_hub', 'random_states', 'optimizer'} <= set(checkpoint)
    allowed = compat.checkpoint_safe_globals()
    for entry in allowed:
        with torch.serialization.safe_globals([e for e in allowed if e is not entry]):
            with pytest.raises(Exception, match='Weights only load failed'):
                torch.load(path, map_location='cpu', weights_only=True)


def test_trusted_checkpoints_unpickle_fully_with_a_warning(tmp_path, warnings_logged):
    path = str(tmp_path / 'namespace.pth')
    torch.save({'state_dict': {'weight': torch.ones(2)}, 'meta': argparse.Namespace(a=1)}, path)
    with pytest.raises(CheckpointTrustError, match=r'it needs argparse\.Namespace'):
        compat.load_local_checkpoint(path)
    assert not warnings_logged
    with trusted_checkpoints():
        with trusted_checkpoints(False):  # an inner no-op keeps the trust
            assert compat.load_local_checkpoint(path)['meta'].a == 1
    assert [r.getMessage() for r in warnings_logged] == [
        f'checkpoint {path} is fully unpickled (trusted): it can run any code']
    with pytest.raises(CheckpointTrustError):
        compat.load_local_checkpoint(path)  # trust ends with the block


def test_unreadable_checkpoints_are_no_trust_errors(tmp_path):
    (tmp_path / 'text.pth').write_text('not a checkpoint')
    with pytest.raises(CheckpointReadError, match='is not a readable torch checkpoint') as info:
        compat.load_local_checkpoint(str(tmp_path / 'text.pth'))
    assert not isinstance(info.value, CheckpointTrustError)


def test_pkg_resources_is_importable_and_checked(monkeypatch):
    import pkg_resources  # noqa: F401  (setuptools<82 is pinned)
    compat.check_pkg_resources()
    monkeypatch.setattr(compat.importlib.util, 'find_spec', lambda name: None)
    with pytest.raises(ImportError, match='setuptools<82'):
        compat.check_pkg_resources()


@pytest.mark.skipif(compat.importlib.util.find_spec('timm') is not None
                    or compat.importlib.util.find_spec('transformers') is None,
                    reason='needs transformers without timm (the case the fix is for)')
@pytest.mark.slow
def test_vindlu_models_fail_to_import_without_timm_unless_fixed(tool_env):
    """transformers (pinned for CLIP features) turns on mmaction's VindLU models, which need
    timm; with the fix they are mmaction's placeholders and everything else registers."""
    proc = python('import importlib.util\n'  # the DRN fix alone, without mmemtm's __init__
                  f'spec = importlib.util.spec_from_file_location("fixes", {compat.__file__!r})\n'
                  'fixes = importlib.util.module_from_spec(spec)\n'
                  'spec.loader.exec_module(fixes)\n'
                  'fixes.install_drn_placeholder()\n'
                  'import mmaction.models', tool_env)
    assert proc.returncode != 0
    assert "No module named 'timm'" in proc.stderr
    proc = python('import mmemtm, mmaction.models\n'
                  'from mmaction.registry import MODELS\n'
                  'import pytest\n'
                  'assert "Recognizer3D" in MODELS.module_dict\n'
                  'with pytest.raises(ImportError, match="multimodal"):\n'
                  '    MODELS.build(dict(type="VindLUVQA"))', tool_env)
    assert proc.returncode == 0, proc.stderr


def test_fixes_are_idempotent():
    mmemtm.apply_compat_fixes()
    mmemtm.apply_compat_fixes()
    assert not compat.install_drn_placeholder()


@pytest.mark.slow
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


def yaml_payload(tmp_path) -> tuple:
    """A YAML config whose tag runs ``touch MARKER`` when PyYAML's full loader reads it."""
    marker = tmp_path / 'payload_ran'
    config = tmp_path / 'evil.yaml'
    config.write_text(f'x: !!python/object/apply:os.system ["touch {marker}"]\nmodel: {{}}\n')
    return str(config), marker


def test_yaml_configs_run_code_without_the_fix(tmp_path, tool_env):
    config, marker = yaml_payload(tmp_path)
    proc = python(f'from mmengine.config import Config; Config.fromfile({config!r})', tool_env)
    assert proc.returncode == 0, proc.stderr
    assert marker.exists()


def test_yaml_configs_are_read_safely_and_name_the_file(tmp_path):
    from mmengine.config import Config
    from mmengine.fileio import load
    config, marker = yaml_payload(tmp_path)
    with pytest.raises(compat.ConfigFileError, match=r'config .*evil\.yaml: cannot read it as '
                       r'YAML: could not determine a constructor for the tag .*python/object/'
                       r'apply:os\.system.* \(line 1, column 4\) \(YAML configs are read with the '
                       r'safe loader'):
        Config.fromfile(config)
    with pytest.raises(Exception, match='python/object/apply'):
        load(config)
    assert not marker.exists()
    plain = tmp_path / 'plain.yml'
    plain.write_text('model:\n  type: EMTM\n  dim: 32\n  dropout: 0.1\n'
                     'train_cfg: {max_epochs: 5, by_epoch: true}\nnames: [a, b]\n')
    cfg = Config.fromfile(str(plain))
    assert cfg.model == dict(type='EMTM', dim=32, dropout=0.1)
    assert cfg.train_cfg.max_epochs == 5 and cfg.names == ['a', 'b']


def test_the_test_tool_refuses_a_yaml_config_that_runs_code(tmp_path, run_tool):
    config, marker = yaml_payload(tmp_path)
    proc = run_tool(['tools/test.py', config, str(tmp_path / 'x.pth')], check=False)
    assert proc.returncode != 0
    assert re.search(r'ConfigFileError: config .*evil\.yaml: cannot read it as YAML', proc.stderr)
    assert not marker.exists()

