import decord
import pytest

from mmemtm.apis.feature_extraction import VideoReadError
from mmemtm.benchmarks.real_video_smoke import cut_video_windows


def test_windows_of_a_real_video_are_readable_clips(shared_data, tmp_path):
    video = str(shared_data / 'videos' / 'kinetics_demo' / 'demo.mp4')
    files = cut_video_windows([video], str(tmp_path), num_frames=4, frame_step=3, size=32,
                              max_windows=2)
    assert files == ['videos/demo_000.mp4', 'videos/demo_001.mp4']
    for name in files:
        clip = decord.VideoReader(str(tmp_path / name))
        assert len(clip) == 4 and clip[0].shape == (32, 32, 3)
    first = (tmp_path / files[0]).stat().st_mtime_ns
    assert cut_video_windows([video], str(tmp_path), num_frames=4, frame_step=3, size=32,
                             max_windows=2) == files
    assert (tmp_path / files[0]).stat().st_mtime_ns == first  # kept, not rewritten
    with pytest.raises(VideoReadError, match='fewer than one window'):
        cut_video_windows([video], str(tmp_path / 'long'), num_frames=100000, size=32)
