"""What ``tools/train.py`` writes into its work dir: nothing while another run holds it, never
through a link, and a ``--resume`` on an empty ``last_checkpoint`` names the file.

The tool runs in this process (``main()``) on a toy config (a linear model on 8 samples)."""
import functools
import os
import sys
from pathlib import Path
from typing import Dict

import pytest
import torch
from torch.utils.data import Dataset

from mmaction.registry import DATASETS, MODELS

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / 'tests' / 'engine' / 'hooks'))
from toy_runner import ToyModel, toy_data  # noqa: E402

TOY_CONFIG = '''
default_scope = 'mmaction'
model = dict(type='WorkDirToyModel')
train_dataloader = dict(dataset=dict(type='WorkDirToyDataset'),
                        sampler=dict(type='DefaultSampler', shuffle=False), batch_size=2,
                        collate_fn=dict(type='pseudo_collate'))
train_cfg = dict(by_epoch=True, max_epochs=1)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01))
randomness = dict(seed=0)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1),
                     logger=dict(type='LoggerHook', interval=1),
                     work_dir_lock=dict(type='WorkDirLockHook'))
'''


class ToyDataset(Dataset):

    def __init__(self) -> None:
        self.items = toy_data()

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        return self.items[index]


MODELS.register_module(name='WorkDirToyModel', module=ToyModel, force=True)
DATASETS.register_module(name='WorkDirToyDataset', module=ToyDataset, force=True)


@pytest.fixture
def train(tool_main):
    """``train(*ARGS)``: ``python tools/train.py ARGS``, in this process (exceptions and exits
    propagate)."""
    return functools.partial(tool_main, 'tools/train.py')


@pytest.fixture
def config(tmp_path) -> str:
    path = tmp_path / 'toy_work_dir.py'
    path.write_text(TOY_CONFIG)
    return str(path)


def snapshot(folder: Path) -> Dict[str, object]:
    """Every entry under ``folder``: a file's bytes, a link's target, ``'dir'``."""
    entries = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root, name)
            key = str(path.relative_to(folder))
            if path.is_symlink():
                entries[key] = ('link', os.readlink(path))
            elif path.is_dir():
                entries[key] = 'dir'
            else:
                entries[key] = path.read_bytes()
    return entries


def test_a_training_into_a_work_dir_in_use_leaves_it_unchanged(tmp_path, config, train,
                                                              lock_held):
    work = tmp_path / 'work'
    (work / '20200101_000000').mkdir(parents=True)
    (work / '20200101_000000' / '20200101_000000.log').write_text('the first run\'s log\n')
    (work / 'toy_work_dir.py').write_text('# the first run\'s config\n')
    torch.save({'w': torch.ones(2)}, work / 'epoch_1.pth')
    (work / 'last_checkpoint').write_text(str(work / 'epoch_1.pth'))
    with lock_held(work) as holder:
        before = snapshot(work)
        with pytest.raises((SystemExit, RuntimeError),
                           match=rf'is in use by another run \(pid {holder.pid}, training'):
            train(config, '--work-dir', str(work))
        assert snapshot(work) == before


def test_the_config_copy_replaces_a_link_instead_of_writing_through_it(tmp_path, config, train):
    work, victim = tmp_path / 'work', tmp_path / 'precious.py'
    work.mkdir()
    victim.write_text('not yours')
    (work / 'toy_work_dir.py').symlink_to(victim)
    train(config, '--work-dir', str(work))
    assert victim.read_text() == 'not yours'
    assert not (work / 'toy_work_dir.py').is_symlink()
    assert 'WorkDirToyModel' in (work / 'toy_work_dir.py').read_text()
    assert (work / 'last_checkpoint').read_text() == str(work / 'epoch_1.pth')
    assert not (work / '.mmemtm.lock').exists()  # released at the end


@pytest.mark.parametrize('content', ['', 'garbage\x00'])
def test_resume_from_an_empty_last_checkpoint_names_the_file(tmp_path, config, content,
                                                             train):
    work = tmp_path / 'work'
    work.mkdir()
    torch.save({'w': torch.ones(2)}, work / 'epoch_3.pth')
    (work / 'last_checkpoint').write_text(content)
    with pytest.raises(RuntimeError, match=rf'cannot resume: {work}/last_checkpoint (is empty|'
                       r'names .*, which does not exist).*--resume .*epoch_3\.pth'):
        train(config, '--work-dir', str(work), '--resume')
