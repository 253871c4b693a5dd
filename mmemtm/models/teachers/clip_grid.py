"""Resampling of a batch's clips to a teacher's own fixed clip grid, and back.

The batch grid has ``L`` positions of which the first ``v_len`` are valid clips of the video. A
teacher that works on a ``T``-clip grid sees ``g = min(v_len, T)`` grid cells (or always ``T``
with ``upsample=True``). Grid cell ``k`` of a sample averages the batch clips
``floor(k * v_len / g) .. ceil((k + 1) * v_len / g) - 1`` (the bins of adaptive average pooling),
so a grid span ``(i, j)`` covers exactly the batch clips
``floor(i * v_len / g) .. ceil((j + 1) * v_len / g) - 1``.
"""
from typing import Tuple

import torch

from ..utils.decoding import fractions_to_clip_spans  # noqa: F401  (re-exported)


def _ceil_div(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    return torch.div(num + den - 1, den, rounding_mode='floor')


def grid_lengths(v_len: torch.Tensor, num_cells: int, upsample: bool = False) -> torch.Tensor:
    """Valid cells ``[B]`` (long) of each sample on a ``num_cells`` grid.

    Args:
        v_len: ``[B]`` valid clips of each video on the batch grid.
        num_cells: Size ``T`` of the teacher's grid.
        upsample: Give every video all ``T`` cells, repeating clips of videos shorter than
            ``T``; otherwise such videos keep one cell per clip.
    """
    v_len = v_len.long().clamp(min=1)
    if upsample:
        return torch.full_like(v_len, num_cells)
    return v_len.clamp(max=num_cells)


def clip_pooling_matrix(v_len: torch.Tensor, grid_len: torch.Tensor, num_cells: int,
                        length: int) -> torch.Tensor:
    """Averaging weights ``[B, T, L]`` from the batch's clips to the grid cells.

    Row ``k < grid_len[b]`` averages the batch clips of cell ``k`` (see the module docstring);
    rows of cells beyond ``grid_len[b]`` are zero.
    """
    v_len = v_len.long().clamp(min=1)[:, None, None]
    cells = grid_len.long()[:, None, None]
    k = torch.arange(num_cells, device=v_len.device)[None, :, None]
    first = torch.div(k * v_len, cells, rounding_mode='floor')
    stop = _ceil_div((k + 1) * v_len, cells)
    pos = torch.arange(length, device=v_len.device)[None, None, :]
    member = (pos >= first) & (pos < stop) & (k < cells)
    weights = member.float()
    return weights / weights.sum(-1, keepdim=True).clamp(min=1.0)


def pool_clips_to_grid(video: torch.Tensor, video_mask: torch.Tensor, num_cells: int,
                       upsample: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
    """Average the valid clips of each video into a ``T``-cell grid.

    Args:
        video: ``[B, L, D]`` clip features (padding after the ``v_len`` valid clips).
        video_mask: ``[B, L]`` valid clips (1) and padding (0).
        num_cells: Grid size ``T``.
        upsample: See :func:`grid_lengths`.

    Returns:
        tuple: ``feats`` ``[B, T, D]`` (zero on cells beyond the valid length) and ``grid_len``
        ``[B]`` (long) valid cells.
    """
    v_len = video_mask.sum(1).long()
    grid_len = grid_lengths(v_len, num_cells, upsample)
    weights = clip_pooling_matrix(v_len, grid_len, num_cells, video.shape[1])
    return torch.bmm(weights.to(video.dtype), video), grid_len


def grid_spans_to_clip_spans(spans: torch.Tensor, grid_len: torch.Tensor,
                             v_len: torch.Tensor) -> torch.Tensor:
    """Map inclusive grid spans ``[B, K, 2]`` to the inclusive batch-clip spans they cover.

    A span of the ``grid_len[b]``-cell grid ``(i, j)`` becomes
    ``(floor(i * v_len / g), ceil((j + 1) * v_len / g) - 1)``. Invalid grid spans stay invalid
    (``i > j`` gives start > end; ``j >= g`` gives an end ``>= v_len``).
    """
    v_len = v_len.long().clamp(min=1)[:, None]
    cells = grid_len.long()[:, None]
    start = torch.div(spans[..., 0].long() * v_len, cells, rounding_mode='floor')
    end = _ceil_div((spans[..., 1].long() + 1) * v_len, cells) - 1
    return torch.stack([start, end], dim=-1)


def grid_candidate_moments(grid_len: torch.Tensor, v_len: torch.Tensor, duration: torch.Tensor,
                           num_cells: int) -> torch.Tensor:
    """Seconds ``[B, T, T, 2]`` covered by every grid span ``(i, j)``.

    Entry ``[b, i, j]`` is ``(start_clip * d / v_len, (end_clip + 1) * d / v_len)`` with the clips
    of :func:`grid_spans_to_clip_spans`, i.e. exactly the moment :class:`BaseGrounder` reports
    when that span is predicted. Entries with ``j < i`` have end < start.
    """
    idx = torch.arange(num_cells, device=grid_len.device)
    pairs = torch.stack(torch.meshgrid(idx, idx, indexing='ij'), dim=-1).reshape(1, -1, 2)
    clips = grid_spans_to_clip_spans(pairs.expand(len(grid_len), -1, -1), grid_len, v_len)
    clip_sec = (duration.double() / v_len.double().clamp(min=1))[:, None]
    moments = torch.stack([clips[..., 0] * clip_sec, (clips[..., 1] + 1) * clip_sec], dim=-1)
    return moments.reshape(len(grid_len), num_cells, num_cells, 2)
