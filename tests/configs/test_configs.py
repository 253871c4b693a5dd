"""Every experiment config loads (its inheritance resolves), builds its model, and its grounding
model agrees with the data its train pipeline gives it."""
import copy
import functools
from pathlib import Path

import pytest
from mmaction.registry import MODELS
from mmengine.config import Config

REPO = Path(__file__).parents[2]
CONFIGS = sorted(str(p.relative_to(REPO)) for p in (REPO / 'configs').rglob('*.py')
                 if '_base_' not in p.parts)
DEMO_GLOVE = 'demo/data/tacos_subset/glove'


@functools.lru_cache(maxsize=None)
def _load(path: str) -> Config:
    return Config.fromfile(str(REPO / path))


def load(path: str) -> Config:
    """The resolved config (parsed once per session; a copy the caller may change)."""
    return copy.deepcopy(_load(path))


def test_every_config_is_found():
    assert len(CONFIGS) > 30


@pytest.mark.parametrize('path', CONFIGS)
def test_config_builds_its_model(path, monkeypatch):
    monkeypatch.chdir(REPO)
    cfg = load(path)
    if cfg.model.get('vocab'):
        cfg.model.vocab = DEMO_GLOVE  # the real GloVe subsets are not part of the checkout
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0


@pytest.mark.parametrize('path', CONFIGS)
def test_grounding_model_agrees_with_its_train_pipeline(path):
    """What a config states twice, once for the data and once for the model, is the same: the
    vocabulary, the clip grid and the feature width; teacher curves are loaded on the student's
    grid (after DownsampleClips), before packing, one file per teacher slot of the model."""
    cfg = load(path)
    steps = {t['type']: t for t in cfg.train_dataloader.dataset.get('pipeline', [])}
    if 'TokenizeQuery' not in steps:
        pytest.skip('not a grounding config')
    model = cfg.model
    if model.get('vocab') is not None:
        assert model.vocab == steps['TokenizeQuery'].vocab
    if model.get('max_vlen') is not None:
        assert model.max_vlen == steps['DownsampleClips'].max_vlen
    if model.get('video_dim') is not None and 'LoadClipFeatures' in steps:
        assert model.video_dim == steps['LoadClipFeatures'].feature_dim
    order = list(steps)
    if 'LoadTeacherCurves' in steps:
        at = order.index('LoadTeacherCurves')
        assert order.index('DownsampleClips') < at and order[at + 1] == 'PackGroundingInputs'
        assert model.num_teachers == len(steps['LoadTeacherCurves'].files)
    elif 'num_teachers' in model:
        assert model.num_teachers == 0
