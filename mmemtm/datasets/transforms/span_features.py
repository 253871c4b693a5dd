"""The clip features of a time span, resampled to a fixed number of steps (trimmed recognition
over pre-extracted features)."""
from typing import Dict, Optional

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from ..feature_store import load_feature_file


def resample_span(feats: np.ndarray, duration: float, start: float, end: float,
                  num_steps: int) -> np.ndarray:
    """Features ``[n_bins, C]`` of bins spread evenly over ``duration`` seconds -> ``[num_steps,
    C]`` at the centres of ``num_steps`` equal parts of ``[start, end]`` (seconds), linearly
    interpolated between bin centres (held constant beyond the first and last centre)."""
    n_bins = feats.shape[0]
    times = start + (np.arange(num_steps) + 0.5) * (end - start) / num_steps
    position = np.clip(times / duration * n_bins - 0.5, 0, n_bins - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, n_bins - 1)
    weight = (position - low)[:, None].astype(np.float32)
    return feats[low] * (1 - weight) + feats[high] * weight


def pool_video(feats: np.ndarray, num_steps: int) -> np.ndarray:
    """Features ``[n_bins, C]`` of a whole video -> ``[num_steps, C]``: the mean of each of
    ``num_steps`` consecutive, near-equal groups of bins (``np.array_split``; a video of fewer
    bins than steps repeats its bins instead)."""
    if feats.shape[0] < num_steps:
        return feats[np.arange(num_steps) * feats.shape[0] // num_steps]
    return np.stack([group.mean(0) for group in np.array_split(feats, num_steps)])


CONTEXTS = ('video', 'surround')


@TRANSFORMS.register_module()
class LoadSpanFeatures(BaseTransform):
    """Load the features of ``timestamp`` as a one-clip ``NCTHW`` input.

    Required keys: ``feature_path`` (a ``[n_bins, C]`` ``.npy`` of bins spread evenly over the
    video), ``duration`` and ``timestamp`` (``[start, end]``, seconds).
    Added keys: ``imgs`` (``[1, C, num_steps + context_steps, 1, 1]`` float32: one clip of
    ``num_steps`` time steps of ``C`` channels and 1 x 1 space, the layout of mmaction's
    ``Recognizer3D``, followed by ``context_steps`` steps of context).

    With ``context_steps``, the span's steps are followed along ``T`` by ``context_steps`` steps
    of context: ``context='video'``, the whole video's bins pooled (:func:`pool_video`);
    ``'surround'``, the span widened by ``surround`` times its length on each side (clipped to
    the video) and resampled (:func:`resample_span`). A privileged teacher reads them
    (:class:`~mmemtm.models.backbones.TemporalFeatureNet` with ``context_steps``), a student
    configured to read the span only ignores them.

    Every file is read once and kept (as float16) by this transform, so an epoch reads nothing from
    disk after the first (1,075 Charades videos of ``[64, 768]``: 105 MB).

    Args:
        num_steps: Time steps of the resampled span.
        feature_dim: Expected channels; a mismatch is an error naming the file.
        context_steps: Steps of context appended after the span's (0: none).
        context: ``'video'`` or ``'surround'`` (see above).
        surround: The widening of ``'surround'`` on each side, in span lengths.
    """

    def __init__(self, num_steps: int = 8, feature_dim: Optional[int] = None,
                 context_steps: int = 0, context: str = 'video', surround: float = 1.0) -> None:
        if context_steps < 0:
            raise ValueError(f'context_steps must be >= 0, got {context_steps}')
        if context not in CONTEXTS:
            raise ValueError(f'context must be one of {CONTEXTS}, got {context!r}')
        self.num_steps, self.feature_dim = num_steps, feature_dim
        self.context_steps, self.context, self.surround = context_steps, context, surround
        self._cache: Dict[str, np.ndarray] = {}

    def video_features(self, path: str) -> np.ndarray:
        """``[n_bins, C]`` float32 of a feature file (checked when first read)."""
        if path not in self._cache:
            self._cache[path] = load_feature_file(path, self.feature_dim).astype(np.float16)
        return self._cache[path].astype(np.float32)

    def transform(self, results: dict) -> dict:
        start, end = results['timestamp']
        video = self.video_features(results['feature_path'])
        feats = resample_span(video, results['duration'], start, end, self.num_steps)
        if self.context_steps:
            feats = np.concatenate([feats, self.context_features(video, results)])
        results['imgs'] = np.ascontiguousarray(feats.T)[None, :, :, None, None]
        return results

    def context_features(self, video: np.ndarray, results: dict) -> np.ndarray:
        """``[context_steps, C]`` of a sample's video features ``[n_bins, C]``."""
        if self.context == 'video':
            return pool_video(video, self.context_steps)
        start, end = results['timestamp']
        width = self.surround * (end - start)
        return resample_span(video, results['duration'], max(start - width, 0.0),
                             min(end + width, results['duration']), self.context_steps)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_steps={self.num_steps}, '
                f'feature_dim={self.feature_dim}, context_steps={self.context_steps}, '
                f'context={self.context!r}, surround={self.surround})')
