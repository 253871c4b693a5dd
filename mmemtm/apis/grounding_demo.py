"""What the grounding demos (``tools/demo.py``, the web demo) show beside the moments: whether the
model was trained on planted synthetic features, and frames of the video at chosen times."""
import os.path as osp
from typing import List, Sequence, Tuple

import numpy as np
from mmengine.config import Config

from mmemtm.datasets.planted import PLANTED_META_FILE

from .feature_extraction import DecordVideo, VideoReadError, scaled_size

PLANTED_NOTE = ('NOTE: this model was trained on PLANTED SYNTHETIC features, never on real '
                'video features: its answer need not be right.')


def trained_on_planted(cfg: Config) -> bool:
    """Whether the model's training features are planted synthetic features."""
    folder = cfg.train_dataloader.dataset.get('data_prefix', {}).get('features', '')
    return 'planted' in folder or osp.isfile(osp.join(folder, PLANTED_META_FILE))


def nearest_frames(timestamps: np.ndarray, times: Sequence[float]) -> np.ndarray:
    """Index of the frame whose timestamp is nearest to each of ``times`` (seconds)."""
    times = np.asarray(times, dtype=np.float64)
    return np.abs(np.asarray(timestamps)[None] - times[:, None]).argmin(1)


def frame_strip(video: DecordVideo, num_frames: int) -> Tuple[List[np.ndarray], List[float]]:
    """The frames (cropped as the features were) at the centres of ``num_frames`` equal parts
    of the video, and those centre times in seconds."""
    times = (np.arange(num_frames) + 0.5) * video.duration / num_frames
    return list(video.frames(nearest_frames(video.timestamps, times))), times.tolist()


def frames_at(path: str, times: Sequence[float], short_side: int = 180) -> List[np.ndarray]:
    """Whole (uncropped) RGB frames of the video at ``times`` (seconds), scaled so that their
    short side has ``short_side`` pixels.

    Raises:
        VideoReadError: The video cannot be opened or decoded.
    """
    import decord
    try:
        probe = decord.VideoReader(path, num_threads=1)
        height, width = probe[0].shape[:2]
        timestamps = probe.get_frame_timestamp(np.arange(len(probe)))[:, 0]
        del probe
        size = scaled_size(height, width, short_side)
        reader = decord.VideoReader(path, width=size[1], height=size[0], num_threads=1)
        indices = nearest_frames(timestamps, times)
        return list(reader.get_batch([int(i) for i in indices]).asnumpy())
    except (RuntimeError, AssertionError, decord.DECORDError, IndexError) as exc:
        raise VideoReadError(f'cannot decode frames of video {path}: {exc}') from exc


def times_within(start: float, end: float, count: int) -> List[float]:
    """``count`` times spread evenly inside ``[start, end]`` (the centres of equal parts)."""
    return (start + (np.arange(count) + 0.5) * (end - start) / count).tolist()
