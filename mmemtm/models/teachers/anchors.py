"""Multi-scale temporal anchors and their boundary offsets.

All positions are fractions of the video (0 = its start, 1 = its end). An anchor is a
``(centre, width)`` pair; a moment is a ``(start, end)`` pair.
"""
from typing import Sequence

import torch


def multiscale_anchors(level_lengths: Sequence[int], ratios: Sequence[float],
                       device=None) -> torch.Tensor:
    """Anchors ``[M, 2]`` (centre, width) of a temporal feature pyramid.

    Level ``l`` has ``level_lengths[l]`` positions; position ``p`` is centred at
    ``(p + 0.5) / n_l`` and gets one anchor of width ``r / n_l`` per ratio ``r``. Anchors are
    ordered by level, then position, then ratio (``M = sum(n_l) * len(ratios)``).
    """
    if not level_lengths or not ratios:
        raise ValueError('need at least one level and one anchor ratio')
    if min(ratios) <= 0:
        raise ValueError(f'anchor ratios must be positive, got {tuple(ratios)}')
    ratio = torch.tensor(ratios, dtype=torch.float32, device=device)
    levels = []
    for length in level_lengths:
        centre = (torch.arange(length, dtype=torch.float32, device=device) + 0.5) / length
        width = ratio / length
        levels.append(torch.stack([centre[:, None].expand(-1, len(ratio)),
                                   width[None].expand(length, -1)], dim=-1).reshape(-1, 2))
    return torch.cat(levels)


def anchor_moments(anchors: torch.Tensor) -> torch.Tensor:
    """Moments ``[..., 2]`` (start, end) of anchors ``[..., 2]`` (centre, width), clipped to the
    video ``[0, 1]``."""
    half = anchors[..., 1] / 2
    return torch.stack([anchors[..., 0] - half, anchors[..., 0] + half], dim=-1).clamp(0.0, 1.0)


def encode_offsets(anchors: torch.Tensor, moments: torch.Tensor,
                   min_width: float = 1e-3) -> torch.Tensor:
    """Regression targets ``[B, M, 2]`` of ground-truth moments relative to anchors.

    ``d_centre = (c_gt - c_a) / w_a`` and ``d_width = log(w_gt / w_a)``.

    Args:
        anchors: ``[M, 2]`` (centre, width).
        moments: ``[B, 2]`` ground-truth (start, end).
        min_width: Smallest ground-truth width (a zero-length moment gets this width).
    """
    centre = (moments[:, 0] + moments[:, 1]) / 2
    width = (moments[:, 1] - moments[:, 0]).clamp(min=min_width)
    d_centre = (centre[:, None] - anchors[None, :, 0]) / anchors[None, :, 1]
    d_width = torch.log(width[:, None] / anchors[None, :, 1])
    return torch.stack([d_centre, d_width], dim=-1)


def decode_offsets(anchors: torch.Tensor, offsets: torch.Tensor,
                   max_log_scale: float = 4.0) -> torch.Tensor:
    """Moments ``[B, M, 2]`` (start, end) from anchors ``[M, 2]`` and offsets ``[B, M, 2]``.

    The inverse of :func:`encode_offsets` (``d_width`` clamped to ``±max_log_scale``); the moment
    is clipped to the video, so ``0 <= start <= end <= 1``.
    """
    centre = anchors[None, :, 0] + offsets[..., 0] * anchors[None, :, 1]
    width = anchors[None, :, 1] * offsets[..., 1].clamp(-max_log_scale, max_log_scale).exp()
    return torch.stack([centre - width / 2, centre + width / 2], dim=-1).clamp(0.0, 1.0)
