"""mmengine's checkpoint writes go through AtomicLocalBackend: a full disk or a kill never leaves
a truncated checkpoint under its final name."""
import os
import sys
from pathlib import Path

import pytest
import torch
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.runner.checkpoint import save_checkpoint

from mmemtm.engine import AtomicLocalBackend
from mmemtm.utils import AtomicWriteError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_bad_inputs import with_file_size_limit  # noqa: E402

BIG = {'w': torch.ones(256, 1024)}  # 1 MiB of weights


def test_local_paths_use_the_atomic_backend():
    assert isinstance(get_file_backend('/tmp/work/epoch_1.pth'), AtomicLocalBackend)


def test_a_checkpoint_save_on_a_full_disk_keeps_the_previous_file(tmp_path):
    path = str(tmp_path / 'epoch_1.pth')
    save_checkpoint({'w': torch.zeros(2)}, path)
    with pytest.raises(AtomicWriteError, match=r'cannot write .*epoch_1\.pth: .*is the disk '
                       r'full\?'):
        with_file_size_limit(64 * 1024, save_checkpoint, BIG, path)
    assert torch.equal(torch.load(path)['w'], torch.zeros(2))
    assert os.listdir(tmp_path) == ['epoch_1.pth']


def test_mmengines_own_backend_leaves_a_truncated_checkpoint(tmp_path):
    """Why the backend exists: mmengine writes in place."""
    path = str(tmp_path / 'epoch_1.pth')
    with pytest.raises(OSError):
        with_file_size_limit(64 * 1024, LocalBackend().put, b'x' * (1 << 20), path)
    assert os.path.getsize(path) == 64 * 1024


def save_ones(path: str) -> None:
    save_checkpoint({'w': torch.ones(3)}, path)


def test_a_killed_checkpoint_save_leaves_no_file_under_its_name(tmp_path, killed_at_fsync):
    killed_at_fsync(save_ones, str(tmp_path / 'epoch_2.pth'))
    assert not (tmp_path / 'epoch_2.pth').exists()
    assert [p.name.startswith('.epoch_2.pth.mmemtm-') for p in tmp_path.iterdir()] == [True]
