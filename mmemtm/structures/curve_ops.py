"""Start/end curves on clip grids: moving them between grids and rescaling them.

Shared by the datasets (``LoadTeacherCurves``) and the models (the teacher-curve converters), so it
lives below both. A curve ``[..., 2, L]`` holds one start row and one end row over ``L`` clips of a
video; clip ``k`` of an ``L``-clip grid covers the fractions ``[k / L, (k + 1) / L]``.

Boundary rebinning (:func:`rebin_boundary_curves`, the default) follows the clip-span convention of
the grounders (``grid_spans_to_clip_spans``): a start at clip ``t`` of an ``L_in``-clip grid is the
time ``t / L_in`` and lands in the clip that begins at or contains it, ``floor(t * L / L_in)``; an
end at clip ``t`` is the time ``(t + 1) / L_in`` and lands in the clip that finishes at or contains
it, ``ceil((t + 1) * L / L_in) - 1``. Values of positions that land in one clip are summed (mass is
kept, so a distribution stays a distribution) or maxed. A perfect teacher therefore decodes to the
same moment on any grid, with no shrinking (which align-corners interpolation gives) and no
aliasing (which point sampling a finer grid gives). Linear resampling (:func:`resample_curves`) is
kept for the reference's behaviour.

Spreading (:func:`spread_curves`) is what distillation targets use: each source position's value is
shared among the target clips its span overlaps, in proportion to the overlap. A 16-cell map
teacher's curve on 64 clips then covers each cell's 4 clips evenly instead of reaching the student
as a comb (a cell's start mass on its first clip, its end mass on its last, 48 of 64 clips exactly
0), which a KL or a log of the curve would otherwise turn into a target of near-impossible clips.
Mass is kept; on a coarser target grid it sums like boundary rebinning of a uniform cell would.
"""
from typing import Optional

import torch

#: Value-range options of :func:`normalize_curves`.
NORMALIZE_MODES = ('l2', 'sum', 'max', None)
#: Grid-change options of :func:`change_curve_grid`.
RESAMPLE_MODES = ('boundary', 'spread', 'linear')


def boundary_clip_index(in_len: int, out_len: int, side: str,
                        device: Optional[torch.device] = None) -> torch.Tensor:
    """Clip of an ``out_len`` grid ``[in_len]`` (long) that each ``in_len``-grid boundary lands in.

    Args:
        in_len: Positions of the source grid (>= 1).
        out_len: Positions of the target grid (>= 1).
        side: ``'start'`` (``floor(t * out / in)``) or ``'end'`` (``ceil((t + 1) * out / in) - 1``).
        device: Device of the result.
    """
    if in_len < 1 or out_len < 1:
        raise ValueError(f'cannot rebin {in_len} positions to {out_len}: both must be >= 1')
    t = torch.arange(in_len, device=device)
    if side == 'start':
        return torch.div(t * out_len, in_len, rounding_mode='floor')
    if side == 'end':
        return torch.div((t + 1) * out_len + in_len - 1, in_len, rounding_mode='floor') - 1
    raise ValueError(f"side must be 'start' or 'end', got {side!r}")


def rebin_boundary_curves(curves: torch.Tensor, out_len: int, reduce: str = 'sum'
                          ) -> torch.Tensor:
    """Move start/end curves ``[..., 2, L_in]`` to ``[..., 2, out_len]`` by boundary rebinning.

    Row 0 (start) and row 1 (end) use their own landing clips (:func:`boundary_clip_index`);
    target clips that no source boundary lands in are 0.

    Args:
        curves: Non-negative start/end curves ``[..., 2, L_in]``.
        out_len: Target number of clips.
        reduce: ``'sum'`` (keeps the mass of distributions) or ``'max'``.

    Returns:
        torch.Tensor: ``[..., 2, out_len]``, same dtype and device.
    """
    if curves.dim() < 2 or curves.shape[-2] != 2:
        raise ValueError(f'expected start/end curves [..., 2, L], got shape {tuple(curves.shape)}')
    if reduce not in ('sum', 'max'):
        raise ValueError(f"reduce must be 'sum' or 'max', got {reduce!r}")
    in_len = curves.shape[-1]
    if in_len == out_len:
        return curves.clone()
    rows = []
    for row, side in enumerate(('start', 'end')):
        values = curves[..., row, :]
        index = boundary_clip_index(in_len, out_len, side, curves.device).expand_as(values)
        out = values.new_zeros(*values.shape[:-1], out_len)
        if reduce == 'sum':
            out.scatter_add_(-1, index, values)
        else:
            out.scatter_reduce_(-1, index, values, 'amax', include_self=False)
        rows.append(out)
    return torch.stack(rows, dim=-2)


def spread_weights(in_len: int, out_len: int, dtype: torch.dtype = torch.float32,
                   device: Optional[torch.device] = None) -> torch.Tensor:
    """``[in_len, out_len]`` share of source position ``t``'s span ``[t / in_len, (t + 1) / in_len]``
    that lies in target clip ``k`` ``[k / out_len, (k + 1) / out_len]``; each row sums to 1.

    Computed on integers (spans scaled by ``in_len * out_len``), so it is exact on every machine.
    """
    if in_len < 1 or out_len < 1:
        raise ValueError(f'cannot spread {in_len} positions over {out_len}: both must be >= 1')
    t = torch.arange(in_len, device=device)[:, None]
    k = torch.arange(out_len, device=device)[None]
    overlap = (torch.minimum((t + 1) * out_len, (k + 1) * in_len)
               - torch.maximum(t * out_len, k * in_len)).clamp(min=0)
    return overlap.to(dtype) / out_len


def spread_curves(curves: torch.Tensor, out_len: int) -> torch.Tensor:
    """Move curves ``[..., L_in]`` to ``[..., out_len]``, sharing each position's value among the
    target clips its span overlaps (:func:`spread_weights`); mass is kept.

    Args:
        curves: Curves ``[..., L_in]`` (start and end rows alike).
        out_len: Target number of clips.

    Returns:
        torch.Tensor: ``[..., out_len]``, same dtype and device.
    """
    in_len = curves.shape[-1]
    if in_len == out_len:
        return curves.clone()
    return curves @ spread_weights(in_len, out_len, curves.dtype, curves.device)


def resample_curves(curves: torch.Tensor, out_len: int) -> torch.Tensor:
    """Linearly resample ``curves`` ``[..., L_in]`` to ``[..., out_len]`` (align_corners=True).

    The reference's grid change: target position ``k`` reads the input at
    ``k * (L_in - 1) / (out_len - 1)``. It shrinks moments (the last clip's end is not the last
    position) and point-samples finer grids (aliasing); :func:`rebin_boundary_curves` does
    neither. A one-position input is repeated; a one-position output reads the input's centre.
    """
    in_len = curves.shape[-1]
    if in_len < 1 or out_len < 1:
        raise ValueError(f'cannot resample {in_len} positions to {out_len}: both must be >= 1')
    if in_len == out_len:
        return curves.clone()
    if in_len == 1:
        return curves.expand(*curves.shape[:-1], out_len).clone()
    if out_len == 1:
        pos = torch.tensor([(in_len - 1) / 2], dtype=torch.float64, device=curves.device)
    else:
        pos = (torch.arange(out_len, dtype=torch.float64, device=curves.device) * (in_len - 1)
               / (out_len - 1))
    left = pos.floor().long().clamp(max=in_len - 2)
    weight = (pos - left).to(curves.dtype)
    return curves[..., left] * (1 - weight) + curves[..., left + 1] * weight


def change_curve_grid(curves: torch.Tensor, out_len: int, mode: str = 'boundary'
                      ) -> torch.Tensor:
    """Start/end curves ``[..., 2, L_in]`` on ``out_len`` clips, by ``mode`` (one of
    :data:`RESAMPLE_MODES`: ``'boundary'`` summing rebinning, ``'spread'`` (mass shared over the
    clips each position covers) or ``'linear'``, the reference)."""
    if mode == 'boundary':
        return rebin_boundary_curves(curves, out_len, 'sum')
    if mode == 'spread':
        return spread_curves(curves, out_len)
    if mode == 'linear':
        return resample_curves(curves, out_len)
    raise ValueError(f'resample must be one of {RESAMPLE_MODES}, got {mode!r}')


def normalize_curves(curves: torch.Tensor, mode: Optional[str], eps: float = 1e-12
                     ) -> torch.Tensor:
    """Rescale each curve ``[..., L]`` along its last axis.

    Args:
        curves: Curves ``[..., L]``.
        mode: ``'l2'`` (unit Euclidean norm), ``'sum'`` (sums to 1, a distribution), ``'max'``
            (peak 1) or None (unchanged). ``'sum'`` and ``'max'`` need non-negative curves.
        eps: Lower bound of the divisor (an all-zero curve stays zero).

    Returns:
        torch.Tensor: ``[..., L]``.
    """
    if mode is None:
        return curves
    if mode == 'l2':
        return curves / curves.norm(dim=-1, keepdim=True).clamp(min=eps)
    if mode in ('sum', 'max'):
        if (curves < 0).any():
            raise ValueError(f"normalize={mode!r} needs non-negative curves, got a minimum of "
                             f'{float(curves.min())}; use an activation or normalize="l2"')
        scale = curves.sum(-1, keepdim=True) if mode == 'sum' else curves.amax(-1, keepdim=True)
        return curves / scale.clamp(min=eps)
    raise ValueError(f'normalize must be one of {NORMALIZE_MODES}, got {mode!r}')
