"""Video files of a data set: ids to files, and durations on the feature extractors' time axis."""
import pytest

from mmemtm.datasets.video_files import (VideoFileError, find_video_file, strip_video_extension,
                                         video_duration)
from mmemtm.utils import UnsafeNameError


def test_ids_and_files(tmp_path):
    assert [strip_video_extension(n) for n in ('3MSZA.mp4', 'a.b.MKV', 'clip.txt', '.mp4')] == [
        '3MSZA', 'a.b', 'clip.txt', '.mp4']
    (tmp_path / 'a.b.MKV').write_bytes(b'')
    (tmp_path / 'c.txt').write_bytes(b'')
    assert find_video_file(str(tmp_path), 'a.b') == str(tmp_path / 'a.b.MKV')
    assert find_video_file(str(tmp_path), 'c') is None
    assert find_video_file(str(tmp_path / 'absent'), 'a.b') is None
    (tmp_path / 'late.mp4').write_bytes(b'')  # the cached listing follows the folder
    assert find_video_file(str(tmp_path), 'late') == str(tmp_path / 'late.mp4')
    with pytest.raises(UnsafeNameError, match='not a plain file name'):
        find_video_file(str(tmp_path), '../a.b')


def test_duration_is_the_extractors(shared_data, tmp_path):
    from mmemtm.apis.clip_frame_features import NativeVideo
    path = str(shared_data / 'videos' / 'charades' / '3MSZA.mp4')
    assert video_duration(path) == pytest.approx(NativeVideo(path).duration, abs=1e-6)
    (tmp_path / 'broken.mp4').write_text('not a video')
    with pytest.raises(VideoFileError, match=r'cannot read video .*broken\.mp4'):
        video_duration(str(tmp_path / 'broken.mp4'))
