"""Each fix of mmemtm.compat, with a check that the problem is real without it."""
import argparse
import json
import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MMLogger
from ports import free_port

import mmemtm
from mmemtm import compat
from mmemtm.compat import CheckpointReadError, CheckpointTrustError, trusted_checkpoints

STUDENT_CONFIG = str(Path(__file__).resolve().parents[1] / 'configs' / 'ablations' /
                     'student_only_tacos_demo.py')


def python(code: str, tool_env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          env=tool_env, timeout=300)


#: Runs the ``[name, code]`` pairs read from stdin one after the other in this interpreter and
#: prints, last, each name's outcome: ``{"ok": ..., "error": traceback, "stdout": ...}``.
CHECK_RUNNER = """
import contextlib, io, json, sys, traceback
outcomes = {}
for name, code in json.loads(sys.stdin.read()):
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, name, 'exec'), {'__name__': '__check__'})
        outcomes[name] = dict(ok=True, error='', stdout=out.getvalue())
    except Exception:
        outcomes[name] = dict(ok=False, error=traceback.format_exc(), stdout=out.getvalue())
print()
print(json.dumps(outcomes))
"""


def fresh_interpreter(checks: List[Tuple[str, str]], env: dict) -> Dict[str, dict]:
    """Run each ``(name, code)`` of ``checks`` in turn in one new interpreter (one start-up for
    all: about 5 s of imports each) and return each name's outcome: ``dict(ok=bool,
    error=traceback or '', stdout=str)``. The checks share nothing but the modules they import,
    and each imports only what it checks."""
    proc = subprocess.run([sys.executable, '-c', CHECK_RUNNER], input=json.dumps(checks),
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return json.loads(proc.stdout.splitlines()[-1])


def save_mmengine_checkpoint(path: Path) -> Path:
    # as mmengine's message hub makes them: buffers start with a value (an empty one would also
    # need builtins.bytes, which no training checkpoint holds)
    torch.save({'state_dict': {'w': torch.ones(2)},
                'message_hub': {'loss': HistoryBuffer([0.5], [1])}}, path)
    return path


def yaml_payload(folder: Path) -> Tuple[str, Path]:
    """A YAML config whose tag runs ``touch MARKER`` when PyYAML's full loader reads it."""
    marker = folder / 'payload_ran'
    config = folder / 'evil.yaml'
    config.write_text(f'x: !!python/object/apply:os.system ["touch {marker}"]\nmodel: {{}}\n')
    return str(config), marker


#: mmengine's launcher on one CPU process (environment of ``torch.distributed.run``).
LAUNCH = ('from mmengine.dist import init_dist, get_world_size\n'
          "init_dist('pytorch', backend='gloo')\n"
          'import torch.distributed as dist\n'
          'print("world", get_world_size()); dist.destroy_process_group()')


def launcher_env(tool_env: dict) -> dict:
    return dict(tool_env, MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()), RANK='0',
                WORLD_SIZE='1', LOCAL_RANK='0')


@pytest.fixture(scope='module')
def without_fixes(tmp_path_factory, tool_env) -> dict:
    """Each problem a fix is for, shown in one fresh interpreter that never imports mmemtm:
    ``dict(outcomes=name -> outcome (see fresh_interpreter), yaml_marker=Path)``."""
    folder = tmp_path_factory.mktemp('without_fixes')
    checkpoint = save_mmengine_checkpoint(folder / 'ckpt.pth')
    config, marker = yaml_payload(folder)
    outcomes = fresh_interpreter([
        ('mmaction_models', 'import mmaction.models'),
        ('mmengine_checkpoint', 'from mmengine.runner.checkpoint import _load_checkpoint\n'
         f'_load_checkpoint({str(checkpoint)!r})'),
        ('yaml_config', f'from mmengine.config import Config; Config.fromfile({config!r})'),
        ('launcher', LAUNCH)], launcher_env(tool_env))
    return dict(outcomes=outcomes, yaml_marker=marker)


@pytest.fixture(scope='module')
def with_fixes(tool_env) -> Dict[str, dict]:
    """The same uses in one fresh interpreter that imports mmemtm first, as tools do: name ->
    outcome (see fresh_interpreter)."""
    return fresh_interpreter([
        ('mmaction_models', 'import mmemtm, mmaction.models\n'
         'from mmaction.registry import MODELS\n'
         'assert {"Recognizer3D", "ResNet3d", "TSNHead", "BMN"} <= set(MODELS.module_dict)'),
        ('vindlu_placeholders', 'import mmemtm, mmaction.models\n'
         'from mmaction.registry import MODELS\n'
         'import pytest\n'
         'with pytest.raises(ImportError, match="multimodal"):\n'
         '    MODELS.build(dict(type="VindLUVQA"))'),
        ('launcher', 'import mmemtm\n' + LAUNCH)], launcher_env(tool_env))


def test_mmaction_models_fail_to_import_without_the_fix(without_fixes):
    outcome = without_fixes['outcomes']['mmaction_models']
    assert not outcome['ok']
    assert "No module named 'mmaction.models.localizers.drn'" in outcome['error']


def test_mmaction_models_register_with_the_fix(with_fixes):
    assert with_fixes['mmaction_models']['ok'], with_fixes['mmaction_models']['error']


def test_drn_placeholder_explains_itself():
    import mmaction.models  # noqa: F401
    from mmaction.registry import MODELS
    with pytest.raises(ImportError, match='mmaction2 1.2.0 release on PyPI does not contain'):
        MODELS.build(dict(type='DRN'))


@pytest.fixture
def mmengine_checkpoint(tmp_path):
    return save_mmengine_checkpoint(tmp_path / 'ckpt.pth')


def test_checkpoints_with_mmengine_objects_fail_without_the_fix(without_fixes):
    outcome = without_fixes['outcomes']['mmengine_checkpoint']
    assert not outcome['ok'] and 'weights_only' in outcome['error']


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
def test_vindlu_models_fail_to_import_without_timm_unless_fixed(tool_env, with_fixes):
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
    for name in ('mmaction_models', 'vindlu_placeholders'):
        assert with_fixes[name]['ok'], with_fixes[name]['error']


def test_fixes_are_idempotent():
    mmemtm.apply_compat_fixes()
    mmemtm.apply_compat_fixes()
    assert not compat.install_drn_placeholder()


def test_pytorch_launcher_initialises_on_cpu(without_fixes, with_fixes):
    """Without CUDA, mmengine's launcher fails in torch.cuda.set_device; with the fix it works."""
    if torch.cuda.is_available():
        pytest.skip('the fix only matters without CUDA')
    broken = without_fixes['outcomes']['launcher']
    assert not broken['ok'] and 'cuda' in broken['error'].lower()
    fixed = with_fixes['launcher']
    assert fixed['ok'], fixed['error']
    assert 'world 1' in fixed['stdout']


def test_ddp_wrapper_accepts_cpu_models():
    import torch.distributed as dist
    from mmemtm.engine import DeviceAwareDistributedDataParallel
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{free_port()}', rank=0, world_size=1)
    try:
        wrapped = DeviceAwareDistributedDataParallel(torch.nn.Linear(2, 2), device_ids=[0])
        assert wrapped.device_ids is None
    finally:
        dist.destroy_process_group()


def test_yaml_configs_run_code_without_the_fix(without_fixes):
    assert without_fixes['outcomes']['yaml_config']['ok'], \
        without_fixes['outcomes']['yaml_config']['error']
    assert without_fixes['yaml_marker'].exists()


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

