"""The inference API: a trained grounder grounds sentences given a video's features."""
import argparse
import json

import numpy as np
import pytest
import torch
from mmengine.config import DictAction

from mmemtm.apis import Moment, VideoGrounder, init_grounder, read_checkpoint_weights
from mmemtm.compat import CheckpointTrustError

from rankings import assert_same_ranking


def options_dict(options):
    parsed = {}
    for option in options:
        key, value = option.split('=', 1)
        parsed[key] = DictAction._parse_iterable(value)
    return parsed


@pytest.fixture(scope='module')
def model(planted_student):
    return init_grounder(planted_student['config'], planted_student['checkpoint'],
                         cfg_options=options_dict(planted_student['options']))


@pytest.fixture(scope='module')
def test_video(demo_root, demo_planted):
    records = json.loads((demo_root / 'test.json').read_text())
    video = records[0][0]
    queries = [r for r in records if r[0] == video]
    return dict(features=str(demo_planted / f'{video}.npy'), duration=queries[0][1],
                sentences=[r[3] for r in queries[:6]], video=video)


def test_ground_several_sentences(model, test_video):
    grounder = VideoGrounder.from_features(model, test_video['features'], test_video['duration'])
    assert grounder.video_id == test_video['video']
    results = grounder.ground(test_video['sentences'])
    assert [r.sentence for r in results] == test_video['sentences']
    for result in results:
        assert 1 <= len(result.moments) <= 5
        assert all(isinstance(m, Moment) for m in result.moments)
        assert all(0 <= m.start < m.end <= test_video['duration'] + 1e-6 for m in result.moments)
        scores = [m.score for m in result.moments]
        assert scores == sorted(scores, reverse=True)
        assert result.start_prob.shape == (grounder.v_len,)
        assert result.start_prob.sum() == pytest.approx(1.0, abs=1e-5)


def test_same_answer_as_the_dataset_pipeline(model, test_video):
    """The API and the test pipeline + model.predict agree on the top moment."""
    from mmaction.registry import DATASETS
    from mmengine.dataset import pseudo_collate
    dataset = DATASETS.build(model.cfg.test_dataloader.dataset)
    index = next(i for i in range(len(dataset))
                 if dataset.get_data_info(i)['video_id'] == test_video['video'])
    info = dataset.get_data_info(index)
    data = model.data_preprocessor(pseudo_collate([dataset[index]]), False)
    with torch.no_grad():
        expected = model.predict(data['inputs'], data['data_samples'])[0].pred_moments[0]
    grounder = VideoGrounder.from_features(model, test_video['features'], info['duration'])
    got = grounder.ground(info['sentence'])[0].moments[0]
    np.testing.assert_allclose([got.start, got.end], expected.numpy(), rtol=1e-5)


def test_batches_of_sentences_give_the_same_answers(model, test_video):
    """Batches of 2 and of 6 sentences run other matrix kernels (logits ~1e-6 apart): where two
    candidate moments' scores tie that closely, rounding ranks them (assert_same_ranking)."""
    grounder = VideoGrounder.from_features(model, test_video['features'], test_video['duration'])
    one_batch = grounder.ground(test_video['sentences'])
    grounder.batch_size = 2
    ties = 0
    for a, b in zip(grounder.ground(test_video['sentences']), one_batch):
        ties += assert_same_ranking(
            [(m.start, m.end) for m in b.moments], [m.score for m in b.moments],
            [(m.start, m.end) for m in a.moments], [m.score for m in a.moments],
            rel=1e-5) is not None
    assert ties <= 1  # a batching fault would change the answers of most sentences


def test_bad_features_and_checkpoint(model, planted_student, tmp_path):
    with pytest.raises(ValueError, match='have dim 16, the model expects 1024'):
        VideoGrounder(model, np.zeros((10, 16)), 10.0)
    with pytest.raises(ValueError, match='must be positive'):
        VideoGrounder(model, np.zeros((10, 1024)), 0.0)
    with pytest.raises(FileNotFoundError, match='does not exist'):
        init_grounder(planted_student['config'], str(tmp_path / 'missing.pth'))


def test_checkpoint_that_runs_code_is_refused_unless_trusted(model, planted_student, tmp_path,
                                                            payload):
    """The planted student's own checkpoint loads without trust (the ``model`` fixture); one
    with another object loads only with ``trust_checkpoint=True``; one with code never runs."""
    options = options_dict(planted_student['options'])
    weights = read_checkpoint_weights(planted_student['checkpoint'])
    evil = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict=weights, meta=payload), evil)
    with pytest.raises(CheckpointTrustError, match=r'evil\.pth was refused: it needs '
                       r'(posix|nt)\.system, .*trust_checkpoint=True'):
        init_grounder(planted_student['config'], evil, cfg_options=options)
    assert not payload.marker.exists()
    other = str(tmp_path / 'namespace.pth')
    torch.save(dict(state_dict=weights, meta=argparse.Namespace(note='extra')), other)
    with pytest.raises(CheckpointTrustError, match=r'it needs argparse\.Namespace'):
        init_grounder(planted_student['config'], other, cfg_options=options)
    trusted = init_grounder(planted_student['config'], other, cfg_options=options,
                            trust_checkpoint=True)
    for key, value in model.state_dict().items():
        assert torch.equal(value, trusted.state_dict()[key]), key


def test_nan_scores_name_the_model_and_the_video(repo_root):
    """A model whose weights are NaN failed with 'a query has no valid moment to decode (every
    score is -inf)', naming neither the model nor the scores' NaN."""
    from mmemtm.models.utils.decoding import NonFiniteScoresError
    config = str(repo_root / 'configs' / 'ablations' / 'student_only_tacos_demo.py')
    model = init_grounder(config, cfg_options=dict(model=dict(dim=32, num_heads=4)))
    with torch.no_grad():
        for param in model.parameters():
            param.fill_(float('nan'))
    grounder = VideoGrounder(model, np.ones((20, 1024), np.float32), 40.0, video_id='v7')
    with pytest.raises(NonFiniteScoresError, match=r'EMTM \(no checkpoint\), video v7, sentences '
                       r'0-1: the scores of 2 of 2 queries .* are NaN'):
        grounder.ground(['a man opens the door.', 'he sits down.'])
