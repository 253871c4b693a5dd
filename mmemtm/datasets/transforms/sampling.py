"""Temporal down-sampling of clip features."""
import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


def downsample_clips(feats: np.ndarray, max_vlen: int) -> np.ndarray:
    """Average ``[n, D]`` clip features into ``max_vlen`` bins when ``n > max_vlen``.

    The ``n`` clips are split into ``max_vlen`` uniform bins with rounded boundaries
    (``round(k * n / max_vlen)``) and each bin is averaged. Shorter inputs are returned unchanged.

    Returns:
        np.ndarray: ``[min(n, max_vlen), D]`` features, same dtype as the input.
    """
    if feats.ndim != 2:
        raise ValueError(f'clip features must be [n_clips, dim], got shape {feats.shape}')
    if max_vlen < 1:
        raise ValueError(f'max_vlen must be positive, got {max_vlen}')
    num_clips = feats.shape[0]
    if num_clips <= max_vlen:
        return feats
    bounds = np.round(np.linspace(0, num_clips, max_vlen + 1)).astype(np.int64)
    cumsum = np.concatenate([np.zeros((1, feats.shape[1])), np.cumsum(feats, 0, np.float64)])
    sums = cumsum[bounds[1:]] - cumsum[bounds[:-1]]
    return (sums / np.diff(bounds)[:, None]).astype(feats.dtype)


@TRANSFORMS.register_module()
class DownsampleClips(BaseTransform):
    """Down-sample ``video_feats`` to at most ``max_vlen`` clips by bin means.

    Required keys: ``video_feats``. Modified keys: ``video_feats``. Added keys: ``v_len`` (clips
    kept) and ``num_clips`` (clips before down-sampling).

    Args:
        max_vlen: Maximum number of clips (Charades 64, ActivityNet 100, TACoS 256).
    """

    def __init__(self, max_vlen: int) -> None:
        if max_vlen < 1:
            raise ValueError(f'max_vlen must be positive, got {max_vlen}')
        self.max_vlen = max_vlen

    def transform(self, results: dict) -> dict:
        results['num_clips'] = int(results['video_feats'].shape[0])
        results['video_feats'] = downsample_clips(results['video_feats'], self.max_vlen)
        results['v_len'] = int(results['video_feats'].shape[0])
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(max_vlen={self.max_vlen})'
