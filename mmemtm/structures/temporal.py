"""Conversions between seconds and clip indices, and temporal IoU.

A video of ``duration`` seconds cut into ``num_clips`` equal clips: clip ``i`` covers
``[i * duration / num_clips, (i + 1) * duration / num_clips]`` seconds. A span of clip indices
``(s, e)`` (inclusive, ``s <= e``) covers ``[s * d / N, (e + 1) * d / N]`` seconds.
"""
import math
from typing import Tuple

import numpy as np


def _check_grid(duration: float, num_clips: int) -> None:
    if not 0 < duration < math.inf:
        raise ValueError(f'duration must be positive and finite, got {duration}')
    if num_clips < 1:
        raise ValueError(f'num_clips must be at least 1, got {num_clips}')


def time_to_index(start: float, end: float, duration: float, num_clips: int) -> Tuple[int, int]:
    """Clip span (inclusive indices) whose time span has the largest IoU with ``[start, end]``.

    Every pair ``i <= j`` is a candidate ``[i * d / N, (j + 1) * d / N]``; the first best pair in
    row-major order wins ties.

    Args:
        start: Moment start in seconds.
        end: Moment end in seconds (``end >= start``).
        duration: Video duration in seconds.
        num_clips: Number of clips ``N`` of the grid.

    Returns:
        tuple: ``(s_ind, e_ind)`` with ``0 <= s_ind <= e_ind < N``.
    """
    _check_grid(duration, num_clips)
    if not (math.isfinite(start) and math.isfinite(end)):
        raise ValueError(f'moment [{start}, {end}] must have finite times')
    if end < start:
        raise ValueError(f'moment end {end} is before its start {start}')
    edges = np.arange(num_clips + 1, dtype=np.float64) * (duration / num_clips)
    starts = edges[:-1, None]
    ends = edges[None, 1:]
    inter = np.clip(np.minimum(ends, end) - np.maximum(starts, start), 0.0, None)
    union = np.maximum(ends, end) - np.minimum(starts, start)
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    iou[np.tril_indices(num_clips, -1)] = -1.0
    flat = int(np.argmax(iou))
    return flat // num_clips, flat % num_clips


def index_to_time(s_ind: int, e_ind: int, duration: float, num_clips: int) -> Tuple[float, float]:
    """Seconds covered by the inclusive clip span ``(s_ind, e_ind)`` of an ``N``-clip grid."""
    _check_grid(duration, num_clips)
    if not 0 <= s_ind <= e_ind < num_clips:
        raise ValueError(f'clip span ({s_ind}, {e_ind}) is not a valid span of {num_clips} clips')
    clip = duration / num_clips
    return s_ind * clip, (e_ind + 1) * clip


def temporal_iou(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """IoU of moments in seconds.

    Args:
        pred: ``[..., 2]`` moments ``(start, end)``.
        gt: ``[..., 2]`` moments, broadcastable against ``pred``.

    Returns:
        np.ndarray: ``[...]`` IoU in ``[0, 1]``. A moment with ``end < start`` or a bound that
        is not finite (NaN, inf) has IoU 0, and so has a pair whose union has zero length (two
        identical instants).
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    finite = np.isfinite(pred).all(-1) & np.isfinite(gt).all(-1)
    with np.errstate(all='ignore'):  # non-finite and degenerate pairs are masked out
        inter = np.minimum(pred[..., 1], gt[..., 1]) - np.maximum(pred[..., 0], gt[..., 0])
        inter = np.clip(inter, 0.0, None)
        union = np.maximum(pred[..., 1], gt[..., 1]) - np.minimum(pred[..., 0], gt[..., 0])
        valid = (finite & (pred[..., 1] >= pred[..., 0]) & (gt[..., 1] >= gt[..., 0])
                 & (union > 0))
        iou = np.where(valid, inter / np.where(valid, union, 1.0), 0.0)
    return np.clip(iou, 0.0, 1.0)
