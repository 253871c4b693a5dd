"""Video files of a data set: finding ``<video_id>.<ext>`` in a folder and reading its duration.

The duration follows the feature extractors' definition (``mmemtm.apis.feature_extraction``,
``mmemtm.apis.clip_frame_features``): the last frame's timestamp plus one frame interval
(``1 / average fps``), in seconds, so that annotated times and feature bins share one time axis.
"""
import functools
import os
import os.path as osp
from typing import Optional, Tuple

import numpy as np

from mmemtm.utils import check_plain_name

#: File name endings recognised as videos (lower case).
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mkv', '.webm', '.mov', '.m4v', '.mpg', '.mpeg', '.flv')


class VideoFileError(OSError):
    """A video file cannot be read (the message names it)."""


def strip_video_extension(name: str) -> str:
    """``name`` without a video file ending (``'3MSZA.mp4'`` -> ``'3MSZA'``); other names as
    they are."""
    stem, ext = osp.splitext(name)
    return stem if stem and ext.lower() in VIDEO_EXTENSIONS else name


def find_video_file(folder: str, video_id: str) -> Optional[str]:
    """The file ``<folder>/<video_id>.<ext>`` with a video ending (case-insensitive), else None.

    Raises:
        mmemtm.utils.UnsafeNameError: ``video_id`` is not a plain file name.
    """
    check_plain_name(video_id, 'video id')
    for name in _folder_listing(osp.abspath(folder), _mtime(folder)):
        stem, ext = osp.splitext(name)
        if stem == video_id and ext.lower() in VIDEO_EXTENSIONS:
            return osp.join(folder, name)
    return None


def video_duration(path: str) -> float:
    """Seconds the video at ``path`` lasts (last frame's timestamp + one frame interval).

    Durations are rounded to microseconds and cached per file (path, size and modification
    time) for the process.

    Raises:
        VideoFileError: the file cannot be decoded or has no frames.
    """
    stat = os.stat(path)
    return _cached_duration(osp.abspath(path), stat.st_size, stat.st_mtime_ns)


def _mtime(folder: str) -> int:
    try:
        return os.stat(folder).st_mtime_ns
    except OSError:
        return -1


@functools.lru_cache(maxsize=64)
def _folder_listing(folder: str, mtime_ns: int) -> Tuple[str, ...]:
    return tuple(sorted(os.listdir(folder))) if mtime_ns >= 0 else ()


@functools.lru_cache(maxsize=None)
def _cached_duration(path: str, size: int, mtime_ns: int) -> float:
    import decord
    try:
        reader = decord.VideoReader(path, num_threads=1)
        stamps = reader.get_frame_timestamp(np.arange(len(reader)))[:, 0].astype(np.float64)
        fps = reader.get_avg_fps()
    except (RuntimeError, AssertionError, decord.DECORDError, IndexError) as exc:
        raise VideoFileError(f'cannot read video {path}: {exc}') from exc
    if len(stamps) == 0:
        raise VideoFileError(f'video {path} has no frames')
    interval = 1.0 / fps if fps > 0 else (float(np.median(np.diff(stamps)))
                                          if len(stamps) > 1 else 0.0)
    if not interval > 0:
        raise VideoFileError(f'video {path}: cannot tell its frame rate (average fps {fps})')
    return round(float(stamps[-1] + interval), 6)


__all__ = ['VIDEO_EXTENSIONS', 'VideoFileError', 'find_video_file', 'strip_video_extension',
           'video_duration']
