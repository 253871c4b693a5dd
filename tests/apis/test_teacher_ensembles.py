"""Decoding the teachers' curves alone, averaged and mixed by a KAU."""
import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config, DictAction

from mmemtm.apis.teacher_ensembles import evaluate_teacher_curves, fit_teacher_weights


def _config(options):
    cfg = Config.fromfile('configs/emtm_tacos_demo.py')
    parsed = {}
    for option in [*options, 'model.video_dim=32', 'model.dim=16', 'model.num_heads=2',
                   'model.encoder.char_dim=8', 'model.aggregator.dim=16']:
        key, value = option.split('=', 1)
        parsed[key] = DictAction._parse_iterable(value)
    cfg.merge_from_dict(parsed)
    return cfg


def test_teachers_decode_alone_and_mixed_with_the_kau_shares(tiny_planted, tiny_cfg_options,
                                                             monkeypatch, repo_root):
    monkeypatch.chdir(repo_root)
    cfg = _config(tiny_cfg_options(tiny_planted))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    names = ['sharp', 'blurred', 'shifted']
    files = [str(tiny_planted / 'curves' / f'teacher{i}.npz') for i in range(3)]
    metrics = evaluate_teacher_curves(model, cfg, files, names, split='train')
    assert set(metrics) == {*names, 'plain average of teachers', 'KAU mixture'}
    # bumps on the true boundaries decode far better than bumps a few clips off
    assert metrics['sharp']['R1@0.5'] > metrics['shifted']['R1@0.5'] + 20
    shares = [metrics['KAU mixture'][f'top_teacher_share/{n}'] for n in names]
    assert sum(shares) == pytest.approx(100.0) and all(s >= 0 for s in shares)


def test_fitted_teacher_weights_favour_the_teacher_on_the_truth(tiny_planted, tiny_cfg_options,
                                                                monkeypatch, repo_root):
    monkeypatch.chdir(repo_root)
    cfg = _config(tiny_cfg_options(tiny_planted))
    files = [str(tiny_planted / 'curves' / f'teacher{i}.npz') for i in range(3)]
    # the planted curves cover the train split (the benchmark fits on the teachers' val curves)
    weights = fit_teacher_weights(MODELS.build(cfg.model), cfg, files, split='train')
    assert weights.shape == (3, 2)
    torch.testing.assert_close(weights.sum(0), torch.ones(2))
    # the sharp teacher (bumps on the true boundaries) outweighs the blurred and the shifted one
    assert (weights[0] > weights[1]).all() and (weights[0] > weights[2]).all()
