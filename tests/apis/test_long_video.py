"""Sliding-window grounding of long videos: window planning, the score-aware merge, and real
CLIP features of several Charades videos concatenated into one long video of known truth."""
import json
from types import SimpleNamespace
from typing import List, Tuple

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmemtm.apis import (LongVideoGrounder, Moment, VideoGrounder, WindowSpec, init_grounder,
                         merge_moments, plan_windows)
from mmemtm.apis.long_video import (stitch_curves, temporal_iou, typical_training_duration,
                                    window_spec_from_config)

CLIP_CONFIG = 'configs/_base_/datasets/charades_clip.py'
BIN_SECONDS = 30.6 / 64  # the training clip rate: 64 bins over a median 30.6-s video


def test_windows_cover_every_bin_with_full_windows():
    np.testing.assert_array_equal(plan_windows(10, 4, 2), [[0, 4], [2, 6], [4, 8], [6, 10]])
    np.testing.assert_array_equal(plan_windows(11, 4, 3), [[0, 4], [3, 7], [6, 10], [7, 11]])
    np.testing.assert_array_equal(plan_windows(3, 4, 2), [[0, 3]])
    np.testing.assert_array_equal(plan_windows(4, 4, 4), [[0, 4]])
    for n, w, s in [(100, 64, 32), (1000, 64, 17), (65, 64, 64)]:
        windows = plan_windows(n, w, s)
        assert np.all(windows[:, 1] - windows[:, 0] == w)
        assert windows[0, 0] == 0 and windows[-1, 1] == n
        assert np.all(np.diff(windows[:, 0]) <= s) and np.all(np.diff(windows[:, 0]) > 0)
    with pytest.raises(ValueError, match='positive'):
        plan_windows(10, 0, 2)


def test_merge_keeps_the_best_of_overlapping_moments():
    moments = [Moment(10.0, 20.0, 0.5), Moment(11.0, 20.0, 0.9),   # the same event, 2 windows
               Moment(40.0, 45.0, 0.7), Moment(0.0, 5.0, 0.1), Moment(42.0, 45.0, 0.2)]
    merged = merge_moments(moments, iou_threshold=0.5)
    assert merged == [Moment(11.0, 20.0, 0.9), Moment(40.0, 45.0, 0.7), Moment(0.0, 5.0, 0.1)]
    assert merge_moments(moments, iou_threshold=0.5, topk=2) == merged[:2]
    # a threshold of 1 suppresses nothing but exact duplicates' lower scores never win
    assert [m.score for m in merge_moments(moments, iou_threshold=1.0)] == [0.9, 0.7, 0.5, 0.2,
                                                                            0.1]
    assert temporal_iou((0, 10), (5, 15)) == pytest.approx(1 / 3)
    assert merge_moments([]) == []


def test_window_spec_from_the_config_or_the_training_data():
    cfg = Config.fromfile(CLIP_CONFIG)
    spec = window_spec_from_config(cfg)
    assert (spec.window, spec.stride) == (30.6, 15.3)
    assert window_spec_from_config(cfg, stride=10.0, topk=3) == WindowSpec(30.6, 10.0, topk=3)
    cfg.long_video = None
    assert typical_training_duration(cfg) == pytest.approx(30.62)  # median of train.json
    assert window_spec_from_config(cfg).stride == pytest.approx(15.31)
    cfg.train_dataloader.dataset.ann_file = 'nowhere/train.json'
    with pytest.raises(FileNotFoundError, match='nowhere/train.json'):
        window_spec_from_config(cfg)
    with pytest.raises(ValueError, match='stride <= window'):
        WindowSpec(10.0, 20.0)
    assert WindowSpec(30.0, 15.0).applies_to(61.0) and not WindowSpec(30.0, 15.0).applies_to(60)


def test_stitched_curves_follow_the_nearest_window():
    curves = [np.array([1, 2, 3, 4.0]), np.array([5, 6, 7, 8.0])]
    # windows [0, 4) and [2, 6) s at 1 s per clip; centres 2 and 4
    np.testing.assert_array_equal(stitch_curves(curves, [0.0, 2.0], 1.0, 6.0),
                                  [1, 2, 3, 6, 7, 8])


def concatenated_videos(shared_data, count: int) -> dict:
    """``count`` test videos' real CLIP features, each resampled (nearest bin) from 64 bins to
    the training clip rate and concatenated, with each video's place on the long timeline and,
    for its first query, the feature row at the centre of the true moment (``target``) and the
    seconds its copies occupy on the long timeline (``target_place``)."""
    root = shared_data / 'charades_sta' / 'clip_vitl14_vidmorp'
    records = json.loads((root / 'test.json').read_text())
    firsts = {}
    for video_id, duration, span, sentence in records:
        firsts.setdefault(video_id, (duration, span, sentence))
    parts, videos, offset = [], [], 0.0
    for video_id in sorted(firsts)[:count]:
        duration, (start, end), sentence = firsts[video_id]
        feats = np.load(root / 'features' / f'{video_id}.npy').astype(np.float32)
        n = max(1, round(duration / BIN_SECONDS))
        rows = np.floor((np.arange(n) + 0.5) * len(feats) / n).astype(int)
        parts.append(feats[rows])
        centre_row = rows[min(int((start + end) / 2 / duration * n), n - 1)]
        copies = np.flatnonzero(rows == centre_row)
        videos.append(dict(
            video_id=video_id, sentence=sentence, target=feats[centre_row],
            place=(offset, offset + n * BIN_SECONDS),
            target_place=(offset + copies[0] * BIN_SECONDS,
                          offset + (copies[-1] + 1) * BIN_SECONDS)))
        offset += n * BIN_SECONDS
    return dict(features=np.concatenate(parts), duration=offset, videos=videos)


class CosineOracle(torch.nn.Module):
    """A grounder whose answer is known: query ``q`` of a batch looks for ``targets[q]``. Each
    clip scores its cosine similarity to the target; the answer is the run of clips maximising
    the summed similarity above ``threshold``, scored by its mean similarity (an absolute
    score, comparable across windows)."""

    def __init__(self, cfg: Config, targets: List[np.ndarray], threshold: float) -> None:
        super().__init__()
        self.cfg = cfg
        self.targets = torch.from_numpy(np.stack(targets))
        self.threshold = threshold
        self.data_preprocessor = SimpleNamespace(max_vlen=None, min_chars=1)
        self.anchor = torch.nn.Parameter(torch.zeros(1))  # gives model_device a device

    @staticmethod
    def best_run(gain: torch.Tensor) -> Tuple[int, int]:
        best, best_span, run, first = -np.inf, (0, 0), 0.0, 0
        for t, g in enumerate(gain.tolist()):
            run, first = (g, t) if run <= 0 else (run + g, first)
            if run > best:
                best, best_span = run, (first, t)
        return best_span

    def predict_one_video(self, inputs: dict) -> dict:
        v_len = int(inputs['video_mask'][0].sum())
        video = torch.nn.functional.normalize(inputs['video'][0, :v_len], dim=-1)
        targets = torch.nn.functional.normalize(self.targets, dim=-1)
        queries = inputs['words'].shape[0]
        sim = targets[:queries] @ video.T                                    # [Q, v_len]
        spans = [self.best_run(s - self.threshold) for s in sim]
        scores = [float(s[a:b + 1].mean()) for s, (a, b) in zip(sim, spans)]
        prob = torch.softmax(sim * 10, dim=-1)
        return dict(spans=torch.tensor(spans)[:, None], scores=torch.tensor(scores)[:, None],
                    start_prob=prob, end_prob=prob)


@pytest.fixture(scope='module')
def long_video(shared_data) -> dict:
    return concatenated_videos(shared_data, 8)


def test_moments_land_in_the_right_video_at_the_right_offset(long_video, capsys):
    """Eight real videos (about 4 min) in windows of 64 clips (30.6 s): each video's query is
    answered exactly where its target row lies on the long timeline, inside that video; the
    whole video squeezed into 64 clips (3.8 s each) cannot say it that precisely."""
    videos = long_video['videos']
    oracle = CosineOracle(Config.fromfile(CLIP_CONFIG), [v['target'] for v in videos],
                          threshold=0.999)
    spec = WindowSpec(window=30.6, stride=15.3)
    grounder = LongVideoGrounder(oracle, long_video['features'], long_video['duration'], spec,
                                 video_id='long')
    assert long_video['duration'] > 200 and len(grounder.windows) >= 12
    np.testing.assert_array_equal(grounder.windows[:, 1] - grounder.windows[:, 0], 64)
    sentences = [v['sentence'] for v in videos]
    results = grounder.ground(sentences)
    assert f'{len(grounder.windows)}/{len(grounder.windows)}' in capsys.readouterr().out
    tol = 1e-4
    for video, result in zip(videos, results):
        top = result.moments[0]
        first, last = video['target_place']
        assert first - tol <= top.start < top.end <= last + tol, (video['video_id'], top)
        assert video['place'][0] <= first < last <= video['place'][1] + tol
        assert top.score == pytest.approx(1.0, abs=1e-4)
        scores = [m.score for m in result.moments]
        assert scores == sorted(scores, reverse=True) and len(scores) <= spec.topk
        assert len(result.start_prob) == round(long_video['duration'] / result.clip_seconds)
    whole = VideoGrounder(oracle, long_video['features'], long_video['duration'])
    for video, result in zip(videos, whole.ground(sentences)):
        top = result.moments[0]
        assert top.end - top.start > video['target_place'][1] - video['target_place'][0]


def test_one_window_is_the_plain_grounder(long_video):
    """A video no longer than a window is grounded exactly as VideoGrounder grounds it."""
    video = long_video['videos'][0]
    first, last = video['place']
    n = round((last - first) / BIN_SECONDS)
    features = long_video['features'][:n]
    oracle = CosineOracle(Config.fromfile(CLIP_CONFIG), [video['target']], threshold=0.999)
    windowed = LongVideoGrounder(oracle, features, last - first, WindowSpec(60.0, 30.0),
                                 progress=False).ground(video['sentence'])[0]
    plain = VideoGrounder(oracle, features, last - first).ground(video['sentence'])[0]
    assert windowed.moments[0] == plain.moments[0]


@pytest.fixture(scope='module')
def clip_model():
    """A randomly initialised EMTM student of the CLIP config (tiny dims)."""
    return init_grounder('configs/ablations/emtm_charades_clip_student_only.py', None,
                         cfg_options={'model.dim': 32, 'model.num_heads': 4,
                                      'model.encoder.char_dim': 8})


def test_a_real_grounder_in_windows_and_the_auto_switch(clip_model, long_video):
    """from_features picks windows for a video much longer than the config's window (30.6 s)
    and the plain grounder for a training-length one; moments stay inside the video."""
    features, duration = long_video['features'], long_video['duration']
    grounder = VideoGrounder.from_features(clip_model, features, duration, long_video='auto',
                                           progress=False)
    assert isinstance(grounder, LongVideoGrounder)
    assert grounder.spec == WindowSpec(30.6, 15.3)
    result = grounder.ground(['person turn a light on.', 'a person opens a door.'])
    for r in result:
        assert r.moments and all(0 <= m.start < m.end <= duration + 1e-6 for m in r.moments)
    short = VideoGrounder.from_features(clip_model, features[:64], 30.6, long_video='auto')
    assert type(short) is VideoGrounder
    never = VideoGrounder.from_features(clip_model, features, duration)
    assert type(never) is VideoGrounder and never.v_len == 64  # squeezed into 64 clips


def test_features_too_coarse_for_windows_are_grounded_whole(clip_model):
    """A 30-min video's features in 64 bins (28 s each) hold no window of 30.6 s."""
    grounder = VideoGrounder.from_features(clip_model, np.ones((64, 768), np.float32), 1800.0,
                                           long_video='auto')
    assert type(grounder) is VideoGrounder
