"""Short clips cut from real videos, for recognition smoke checks.

Each video is decoded with decord (short side scaled to ``size`` by FFmpeg's scaler, as in
:mod:`mmemtm.datasets.video_features`), centre-cropped to ``size x size``, and cut into
non-overlapping windows of ``num_frames`` frames taken every ``frame_step`` frames; each window
is written as an mp4 file (``videos/<stem>_<k>.mp4``), so mmaction's ``VideoDataset`` and decord
transforms read them like any other clip.
"""
import os.path as osp
from typing import List, Sequence

import decord
import numpy as np

from mmemtm.utils import atomic_write
from .synthetic_motion import write_mp4


class VideoWindowError(ValueError):
    """A video cannot give a single window; the message names it."""


def _reader(path: str, size: int) -> decord.VideoReader:
    probe = decord.VideoReader(path)
    height, width = probe[0].shape[:2]
    scale = size / min(height, width)
    return decord.VideoReader(path, width=int(round(width * scale)),
                              height=int(round(height * scale)))


def cut_video_windows(videos: Sequence[str], out_dir: str, num_frames: int = 16,
                      frame_step: int = 2, size: int = 224, max_windows: int = 12,
                      fps: int = 12) -> List[str]:
    """Write the windows of ``videos`` under ``out_dir/videos``; existing files are kept.

    Returns:
        list: The window files, relative to ``out_dir``, in video then time order.
    """
    files = []
    for video in videos:
        reader = _reader(video, size)
        span = num_frames * frame_step
        count = min(len(reader) // span, max_windows)
        if count == 0:
            raise VideoWindowError(f'{video} has {len(reader)} frames, fewer than one window '
                                   f'({num_frames} frames every {frame_step})')
        stem = osp.splitext(osp.basename(video))[0]
        for k in range(count):
            name = f'videos/{stem}_{k:03d}.mp4'
            files.append(name)
            if osp.isfile(osp.join(out_dir, name)):
                continue
            frames = reader.get_batch(list(range(k * span, (k + 1) * span, frame_step)))
            frames = frames.asnumpy()
            top, left = (frames.shape[1] - size) // 2, (frames.shape[2] - size) // 2
            crop = np.ascontiguousarray(frames[:, top:top + size, left:left + size])
            write_mp4(crop, osp.join(out_dir, name), fps)
    return files


def write_annotations(path: str, files: Sequence[str], labels: Sequence[int]) -> None:
    """An mmaction ``VideoDataset`` list (``file label`` lines), written atomically."""
    if len(files) != len(labels):
        raise ValueError(f'{path}: {len(files)} files but {len(labels)} labels')
    with atomic_write(path) as f:
        f.writelines(f'{name} {int(label)}\n' for name, label in zip(files, labels))
