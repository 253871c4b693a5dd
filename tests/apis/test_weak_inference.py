"""The weakly-supervised student grounds sentences through the inference API like the other
grounders (one stream of features in, ranked moments in seconds out); a two-stream model cannot
be fed one array."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

import mmemtm  # noqa: F401  (registers the models)
from mmemtm.apis import VideoGrounder, init_grounder

REPO = Path(__file__).parents[2]
DEMO_GLOVE = str(REPO / 'demo' / 'data' / 'tacos_subset' / 'glove')


def config(path: str) -> Config:
    cfg = Config.fromfile(str(REPO / 'configs' / 'weakly_supervised' / path))
    cfg.model.vocab = DEMO_GLOVE
    for step in cfg.test_dataloader.dataset.pipeline:
        if step['type'] == 'TokenizeQuery':
            step['vocab'] = DEMO_GLOVE
    return cfg


@pytest.mark.parametrize('path', ['weak_student_charades_clip.py',
                                  'lgd_student_charades_clip.py'])
def test_the_student_grounds_sentences_from_one_stream(path, tmp_path):
    cfg = config(path)
    torch.manual_seed(0)
    checkpoint = tmp_path / 'student.pth'
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), checkpoint)
    model = init_grounder(cfg, str(checkpoint))
    features = np.random.default_rng(0).normal(size=(64, 768)).astype(np.float32)
    results = VideoGrounder.from_features(model, features, 30.0).ground(
        ['the person cuts the cucumber', 'the person washes the plate'])
    assert len(results) == 2
    for result in results:
        moments = result.moments
        assert len(moments) == 5
        assert all(0 <= m.start < m.end <= 30.0 + 1e-6 for m in moments)
        assert all(a.score >= b.score for a, b in zip(moments, moments[1:]))


def test_a_two_stream_model_cannot_ground_one_array():
    model = init_grounder(config('mutual_teacher_charades_clip.py'))
    with pytest.raises(ValueError, match=r"\['appearance', 'motion'\]"):
        VideoGrounder.from_features(model, np.zeros((64, 1536), np.float32), 30.0)
