import json

import numpy as np
import pytest

from mmemtm.datasets import read_queries
from mmemtm.datasets.planted import (ConceptSpace, PlantedFeatureGenerator,
                                     inverse_document_frequency, moment_profile,
                                     planted_num_clips)
from mmemtm.text import load_word_vocabulary


@pytest.fixture(scope='module')
def demo_queries(demo_root):
    return [q for q in read_queries(str(demo_root / 'val.json'))[0]]


@pytest.fixture(scope='module')
def vocab(demo_root):
    return load_word_vocabulary(str(demo_root / 'glove'))


def generate(vocab, queries, out, **kwargs):
    kwargs.setdefault('dim', 256)
    return PlantedFeatureGenerator(vocab, **kwargs).generate(queries, str(out))


def test_layout_and_determinism(tmp_path, vocab, demo_queries):
    shapes = generate(vocab, demo_queries, tmp_path / 'a', seed=3)
    generate(vocab, demo_queries, tmp_path / 'b', seed=3)
    generate(vocab, demo_queries, tmp_path / 'c', seed=4)
    assert json.loads((tmp_path / 'a' / 'feature_shapes.json').read_text()) == shapes
    meta = json.loads((tmp_path / 'a' / 'planted_meta.json').read_text())
    assert meta['synthetic'] is True and 'SYNTHETIC' in meta['note']
    for video, n in shapes.items():
        a = np.load(tmp_path / 'a' / f'{video}.npy')
        duration = next(q['duration'] for q in demo_queries if q['video_id'] == video)
        assert a.shape == (n, 256) and n == planted_num_clips(duration, 2.0, 8, 1024)
        np.testing.assert_array_equal(a, np.load(tmp_path / 'b' / f'{video}.npy'))
        assert not np.allclose(a, np.load(tmp_path / 'c' / f'{video}.npy'))


def test_moments_carry_their_sentence(tmp_path, vocab, demo_queries):
    generate(vocab, demo_queries, tmp_path, noise=0.5)
    idf = inverse_document_frequency(q['sentence'] for q in demo_queries)
    concepts = ConceptSpace(vocab, 256, idf, max(idf.values()))
    inside, outside = [], []
    for q in demo_queries[:40]:
        feats = np.load(tmp_path / f'{q["video_id"]}.npy')
        profile = moment_profile(*q['timestamp'], q['duration'], len(feats))
        score = feats @ concepts.sentence(q['sentence'])
        inside.append(score[profile.argmax()])
        outside.append(score[profile < 0.01].mean())
    assert np.mean(np.array(inside) > np.array(outside)) > 0.9


def test_noise_knob_sets_the_noise_norm(tmp_path, vocab, demo_queries):
    video = demo_queries[0]['video_id']
    queries = [q for q in demo_queries if q['video_id'] == video]
    feats = {}
    for noise in (0.0, 0.1, 3.0):
        generate(vocab, queries, tmp_path / str(noise), noise=noise)
        feats[noise] = np.load(tmp_path / str(noise) / f'{video}.npy')
    for noise in (0.1, 3.0):
        norms = np.linalg.norm(feats[noise] - feats[0.0], axis=1)
        assert norms.mean() == pytest.approx(noise, rel=0.1)


def test_soft_profile_edges():
    profile = moment_profile(10.0, 20.0, 40.0, 20)
    assert profile[7] > 0.98 and profile[0] < 1e-3 and profile[16] < 1e-3
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    # clip 5 is centred at 11 s, one clip-half (tau = 1 s) past the start
    assert profile[5] == pytest.approx(sigmoid(1.0) * sigmoid(9.0))
    assert profile[4] == pytest.approx(sigmoid(-1.0) * sigmoid(11.0))


def test_folder_of_another_recipe_is_refused(tmp_path, vocab, demo_queries):
    generate(vocab, demo_queries, tmp_path, seed=0)
    with pytest.raises(ValueError, match='another recipe'):
        generate(vocab, demo_queries, tmp_path, seed=1)


def test_words_without_glove_still_get_a_concept(vocab):
    concepts = ConceptSpace(vocab, 64, {}, 1.0)
    a, b = concepts.word('zzqxv'), concepts.word('zzqxv')
    np.testing.assert_array_equal(a, b)
    assert np.linalg.norm(a) == pytest.approx(1.0)
    assert abs(a @ concepts.word('qqwwx')) < 0.5
