"""WorkDirRunner (tools/train.py, tools/test.py): the files it writes line by line into a run's
log folder are refused if they are links; the config copy replaces a link (atomic write)."""
import os
import sys
from pathlib import Path

import pytest
from mmengine.runner import Runner

from mmemtm.engine import WorkDirRunner
from mmemtm.utils.io import LinkedFileError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'hooks'))
from toy_runner import ToyModel  # noqa: E402

STAMP = '20200101_000000'


@pytest.fixture
def fixed_timestamp(monkeypatch):
    """Runs named ``STAMP`` (their log folder is ``<work_dir>/STAMP``)."""
    setup_env = Runner.setup_env

    def setup(self, env_cfg):
        setup_env(self, env_cfg)
        self._timestamp = STAMP

    monkeypatch.setattr(Runner, 'setup_env', setup)


def build(work: Path, name: str) -> Runner:
    return WorkDirRunner(model=ToyModel(), work_dir=str(work), default_scope='mmaction',
                         experiment_name=name)


@pytest.mark.parametrize('link', [STAMP, f'{STAMP}/{STAMP}.log', f'{STAMP}/vis_data',
                                  f'{STAMP}/vis_data/scalars.json'])
def test_a_link_in_place_of_a_log_is_refused(tmp_path, fixed_timestamp, link):
    work, victim = tmp_path / 'work', tmp_path / 'victim'
    (work / link).parent.mkdir(parents=True, exist_ok=True)
    if link == STAMP or link.endswith('vis_data'):
        victim.mkdir()
    else:
        victim.write_text('not yours')
    (work / link).symlink_to(victim)
    with pytest.raises(LinkedFileError, match=rf'{work / link} is a symbolic link to {victim}'):
        build(work, f'refused_{link.replace("/", "_")}')
    if victim.is_dir():
        assert os.listdir(victim) == []
    else:
        assert victim.read_text() == 'not yours'


def test_the_config_copy_replaces_a_link(tmp_path, fixed_timestamp):
    work, victim = tmp_path / 'work', tmp_path / 'victim.py'
    work.mkdir()
    victim.write_text('not yours')
    (work / f'{STAMP}.py').symlink_to(victim)
    build(work, 'config_copy')
    assert victim.read_text() == 'not yours'
    assert not (work / f'{STAMP}.py').is_symlink() and (work / f'{STAMP}.py').is_file()
