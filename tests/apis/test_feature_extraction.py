import json
import os
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch

import mmemtm  # noqa: F401
from mmemtm.datasets import NpyFeatureStore
from mmemtm.apis.feature_extraction import (ClipFeatureExtractor, ClipFeatureRecipe,
                                            DecordVideo, VideoReadError,
                                            extract_features_to_folder, frames_to_clips,
                                            list_videos, resample_frame_indices, scaled_size,
                                            window_frame_positions, window_starts)

# A small recipe so the synthetic tests stay fast: 8-frame clips of 56x56 at 24 fps. (decord's
# FFmpeg scaling fails on a few widths under 73 pixels, so frames stay wider than that.)
SMALL = ClipFeatureRecipe(fps=24.0, window=8, stride=8, short_side=64, crop_size=56)


class MeanColour(torch.nn.Module):
    """Stand-in network: the clip itself, so a clip's feature is its mean RGB in [-1, 1]."""

    feature_dim = 3

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return clips


def write_video(path, values, fps=10.0, size=(72, 96)):
    """Lossless (FFV1) video whose frame i is flat grey ``values[i]``."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'FFV1'), fps, size[::-1])
    assert writer.isOpened()
    for value in values:
        writer.write(np.full((*size, 3), value, np.uint8))
    writer.release()
    return str(path)


def test_resample_30fps_to_24fps_takes_latest_frame_at_or_before_each_tick():
    # decord reports float32 seconds: the exact ties at multiples of 1/6 s must still match.
    timestamps = (np.arange(930) / 30).astype(np.float32)
    indices = resample_frame_indices(timestamps, 24.0, 1 / 30)
    assert len(indices) == 744  # floor((929/30 + 1/30) * 24) = 31 s * 24
    np.testing.assert_array_equal(indices, (np.arange(744) * 30) // 24)
    np.testing.assert_array_equal(indices[:10], [0, 1, 2, 3, 5, 6, 7, 8, 10, 11])


def test_resample_low_frame_rate_repeats_frames():
    indices = resample_frame_indices(np.arange(25) / 10, 24.0, 0.1)
    assert len(indices) == 60  # 2.5 s
    np.testing.assert_array_equal(indices, (np.arange(60) * 10) // 24)


def test_resample_variable_frame_rate_and_late_start():
    timestamps = np.array([0.05, 0.1, 0.15, 0.5])
    indices = resample_frame_indices(timestamps, 10.0, 0.1)
    # duration 0.6 s -> ticks 0.0 .. 0.5; tick 0.0 precedes the first frame -> frame 0
    np.testing.assert_array_equal(indices, [0, 1, 2, 2, 2, 3])
    with pytest.raises(ValueError, match='must not decrease'):
        resample_frame_indices(np.array([0.0, 0.2, 0.1]), 10.0, 0.1)
    with pytest.raises(ValueError, match='non-empty'):
        resample_frame_indices(np.array([]), 10.0, 0.1)


def test_window_starts_replace_a_short_last_window():
    np.testing.assert_array_equal(window_starts(744, 24, 24), np.arange(31) * 24)
    np.testing.assert_array_equal(window_starts(50, 24, 24), [0, 24, 26])
    np.testing.assert_array_equal(window_starts(48, 24, 24), [0, 24])
    np.testing.assert_array_equal(window_starts(30, 16, 8), [0, 8, 14, 14])
    starts = window_starts(10, 24, 24)
    np.testing.assert_array_equal(starts, [0])
    positions = window_frame_positions(starts, 24, 10)
    np.testing.assert_array_equal(positions[0], list(range(10)) + [9] * 14)
    with pytest.raises(ValueError, match='at least one frame'):
        window_starts(0, 24, 24)


def test_scaled_size_and_recipe_checks():
    assert scaled_size(270, 480, 226) == (226, 402)
    assert scaled_size(480, 270, 226) == (402, 226)
    assert scaled_size(256, 340, 226) == (226, 300)
    with pytest.raises(ValueError, match='crop_size'):
        ClipFeatureRecipe(short_side=200, crop_size=224)
    with pytest.raises(ValueError, match='positive'):
        ClipFeatureRecipe(stride=0)
    recipe = ClipFeatureRecipe().to_dict()
    assert recipe['fps'] == 24.0 and recipe['window'] == 24 and recipe['stride'] == 24
    assert recipe['seconds_per_feature'] == 1.0


def test_frames_to_clips_layout_and_range():
    frames = np.zeros((2, 3, 4, 4, 3), np.uint8)
    frames[1, 2, :, :, 0] = 255
    clips = frames_to_clips(frames)
    assert clips.shape == (2, 3, 3, 4, 4) and clips.dtype == torch.float32
    assert clips[1, 0, 2].eq(1).all() and clips[0].eq(-1).all() and clips[1, 1, 2].eq(-1).all()


def test_decord_video_scales_and_crops(tmp_path):
    path = write_video(tmp_path / 'v.avi', [10 * i for i in range(25)], fps=10.0)
    video = DecordVideo(path, short_side=64, crop_size=56)
    assert len(video) == 25 and video.size == (64, 85) and video.offset == (4, 14)
    assert video.duration == pytest.approx(2.5)
    frames = video.frames(np.array([0, 5, 24]))
    assert frames.shape == (3, 56, 56, 3)
    np.testing.assert_array_equal(frames.reshape(3, -1).mean(1), [0, 50, 240])


def test_extract_follows_resampling_and_windows(tmp_path):
    values = [10 * i for i in range(25)]  # 2.5 s at 10 fps -> 60 frames at 24 fps
    path = write_video(tmp_path / 'v.avi', values, fps=10.0)
    extractor = ClipFeatureExtractor(MeanColour(), SMALL, batch_size=2, channels_last=False)
    timings = {}
    feats = extractor.extract(path, timings)
    assert set(timings) == {'decode', 'preprocess', 'network'}
    # 60 frames, windows of 8: starts 0, 8, ..., 48, and 56 -> 52 (the final 8 frames)
    starts = [0, 8, 16, 24, 32, 40, 48, 52]
    source = (np.arange(60) * 10) // 24
    expected = [np.mean([values[source[s + j]] for j in range(8)]) / 127.5 - 1 for s in starts]
    assert feats.shape == (8, 3) and feats.dtype == np.float32
    np.testing.assert_allclose(feats, np.repeat(np.array(expected)[:, None], 3, 1), atol=1e-5)


@pytest.fixture
def videos(tmp_path):
    folder = tmp_path / 'videos'
    folder.mkdir()
    write_video(folder / 'a.avi', [20 * i for i in range(12)], fps=12.0)
    write_video(folder / 'b.avi', [200 - 10 * i for i in range(20)], fps=10.0)
    (folder / 'garbage.mp4').write_bytes(os.urandom(4096))
    real = folder / 'b.avi'
    (folder / 'truncated.avi').write_bytes(real.read_bytes()[:300])
    (folder / 'notes.txt').write_text('not a video')
    return folder


def test_list_videos(videos, tmp_path):
    listed = list_videos([str(videos)])
    assert [vid for vid, _ in listed] == ['a', 'b', 'garbage', 'truncated']
    list_file = tmp_path / 'list.txt'
    list_file.write_text('videos/b.avi\n\n' + str(videos / 'a.avi') + '\n')
    assert list_videos([str(list_file)]) == [('b', str(tmp_path / 'videos' / 'b.avi')),
                                             ('a', str(videos / 'a.avi'))]
    with pytest.raises(ValueError, match="two videos have id 'a'"):
        list_videos([str(videos / 'a.avi'), str(list_file), str(videos / 'a.avi')])
    with pytest.raises(FileNotFoundError, match='missing.mp4'):
        list_videos([str(tmp_path / 'missing.mp4')])


def test_extract_to_folder_skips_bad_videos_and_finished_ones(videos, tmp_path, monkeypatch):
    out = tmp_path / 'features'
    extractor = ClipFeatureExtractor(MeanColour(), SMALL, batch_size=4, weights='mean colour')
    summary = extract_features_to_folder(extractor, list_videos([str(videos)]), str(out))
    assert summary['written'] == ['a', 'b'] and summary['skipped'] == []
    assert set(summary['failed']) == {'garbage', 'truncated'}
    assert 'garbage.mp4' in summary['failed']['garbage']
    # nothing half-written: only the finished videos, the shapes and the recipe
    assert sorted(os.listdir(out)) == ['a.npy', 'b.npy', 'feature_recipe.json',
                                       'feature_shapes.json']
    shapes = json.loads((out / 'feature_shapes.json').read_text())
    assert shapes == {'a': 3, 'b': 6}  # 1 s -> 24 frames -> 3 clips; 2 s -> 48 -> 6
    recipe = json.loads((out / 'feature_recipe.json').read_text())
    assert recipe['window'] == 8 and recipe['feature_dim'] == 3
    assert recipe['weights'] == 'mean colour'
    store = NpyFeatureStore(str(out))
    assert store.num_clips('b') == 6 and store.load_checked('b', 3).shape == (6, 3)

    # A rerun extracts nothing again.
    mtime = os.path.getmtime(out / 'a.npy')
    monkeypatch.setattr(ClipFeatureExtractor, 'extract', lambda *a, **k: pytest.fail('rerun'))
    os.remove(videos / 'garbage.mp4')
    os.remove(videos / 'truncated.avi')
    summary = extract_features_to_folder(extractor, list_videos([str(videos)]), str(out))
    assert summary == dict(written=[], skipped=['a', 'b'], failed={})
    assert os.path.getmtime(out / 'a.npy') == mtime

    other = ClipFeatureExtractor(MeanColour(), ClipFeatureRecipe(fps=12.0, window=8, stride=8,
                                                                 short_side=64, crop_size=56))
    with pytest.raises(ValueError, match='another recipe .*fps'):
        extract_features_to_folder(other, list_videos([str(videos)]), str(out))


def test_unreadable_video_raises_video_read_error(videos):
    extractor = ClipFeatureExtractor(MeanColour(), SMALL)
    for name in ('garbage.mp4', 'truncated.avi'):
        with pytest.raises(VideoReadError, match=name):
            extractor.extract(str(videos / name))



def test_plan_reports_broken_timestamps_as_unreadable_video():
    extractor = ClipFeatureExtractor(MeanColour(), SMALL)
    video = SimpleNamespace(path='odd.mp4', timestamps=np.array([0.0, 0.2, 0.1]),
                            frame_interval=0.1)
    with pytest.raises(VideoReadError, match='odd.mp4: frame timestamps must not decrease'):
        extractor.plan(video)
    video = SimpleNamespace(path='ok.mp4', timestamps=np.arange(25) / 10, frame_interval=0.1)
    plan = extractor.plan(video)  # [n_windows, window] decoded-frame indices
    assert plan.shape == (8, 8)
    np.testing.assert_array_equal(plan[-1], (np.arange(52, 60) * 10) // 24)


def test_a_second_extraction_into_a_folder_in_use_is_refused(videos, tmp_path, lock_held):
    """Two runs into one folder each rewrote feature_shapes.json from their own view: half the
    entries were lost."""
    from mmemtm.utils import FolderLockedError
    out = tmp_path / 'features'
    with lock_held(out):
        extractor = ClipFeatureExtractor(MeanColour(), SMALL, batch_size=4, weights='mean colour')
        with pytest.raises(FolderLockedError, match=r'features is in use by another run .*Wait '
                           r'for it to finish or use another folder for this feature extraction'):
            extract_features_to_folder(extractor, list_videos([str(videos)]), str(out))
        assert sorted(os.listdir(out)) == ['.mmemtm.lock']  # nothing of the refused run
