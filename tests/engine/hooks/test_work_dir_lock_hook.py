"""WorkDirLockHook: a second training into a work dir in use fails before it writes anything."""
import os
import subprocess
import sys

import pytest
from mmengine.config import Config

from mmaction.registry import HOOKS
from mmemtm.engine import WorkDirLockHook
from mmemtm.utils import FolderLockedError
from mmemtm.utils.io import _HOST
from mmemtm.utils.locks import LOCK_FILE
from toy_runner import toy_runner

LOCK_HOOK = dict(work_dir_lock=dict(type='WorkDirLockHook'))


def test_training_into_a_locked_work_dir_fails_before_any_checkpoint(tmp_path, lock_held):
    with lock_held(tmp_path) as holder:
        runner = toy_runner(str(tmp_path), hooks=LOCK_HOOK)
        with pytest.raises(FolderLockedError, match=rf'is in use by another run \(pid '
                           rf'{holder.pid}, training'):
            runner.train()
    assert not [p for p in os.listdir(tmp_path) if p.endswith('.pth') or p == 'last_checkpoint']


def test_the_lock_is_released_after_training_and_stale_temporaries_removed(tmp_path):
    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f'.epoch_1.pth.mmemtm-{_HOST}-{dead}-x.tmp'
    stale.write_text('left by a killed save')
    other_host = tmp_path / f'.epoch_9.pth.mmemtm-otherhost-{dead}-x.tmp'
    other_host.write_text('kept: its pid means nothing here')
    runner = toy_runner(str(tmp_path), hooks=LOCK_HOOK, max_epochs=1)
    runner.train()
    assert not (tmp_path / LOCK_FILE).exists()
    assert not stale.exists() and other_host.exists()
    toy_runner(str(tmp_path), hooks=LOCK_HOOK, max_epochs=1).train()  # a later run may start


def test_hook_is_in_the_runtime_config():
    cfg = Config.fromfile('configs/_base_/grounding_runtime.py')
    assert isinstance(HOOKS.build(cfg.default_hooks.work_dir_lock), WorkDirLockHook)
