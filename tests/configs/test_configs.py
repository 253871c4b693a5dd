"""Every experiment config loads (its inheritance resolves) and builds its model."""
from pathlib import Path

import pytest
from mmaction.registry import MODELS
from mmengine.config import Config

REPO = Path(__file__).parents[2]
CONFIGS = sorted(str(p.relative_to(REPO)) for p in (REPO / 'configs').rglob('*.py')
                 if '_base_' not in p.parts)
DEMO_GLOVE = 'demo/data/tacos_subset/glove'


def test_every_config_is_found():
    assert len(CONFIGS) > 30


@pytest.mark.parametrize('path', CONFIGS)
def test_config_builds_its_model(path, monkeypatch):
    monkeypatch.chdir(REPO)
    cfg = Config.fromfile(path)
    if cfg.model.get('vocab'):
        cfg.model.vocab = DEMO_GLOVE  # the real GloVe subsets are not part of the checkout
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0
