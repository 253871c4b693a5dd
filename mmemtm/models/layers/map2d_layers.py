"""Building blocks of 2-D temporal maps (2D-TAN, Zhang et al., AAAI 2020).

A map over a ``T``-cell clip grid has one entry per candidate moment: entry ``[i, j]`` is the
moment from cell ``i`` to cell ``j`` (inclusive); only ``i <= j`` is a moment.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS


def span_feature_map(feats: torch.Tensor, mode: str = 'max') -> torch.Tensor:
    """Features of every span of a sequence.

    Args:
        feats: ``[B, C, T]`` cell features.
        mode: ``'max'`` (max-pooling over the span's cells, 2D-TAN's pooling variant) or
            ``'avg'`` (average over the span's cells).

    Returns:
        torch.Tensor: ``[B, C, T, T]``; entry ``[..., i, j]`` pools cells ``i..j`` for
        ``i <= j`` and is 0 for ``j < i``.
    """
    length = feats.shape[-1]
    out = feats.new_zeros(*feats.shape, length)
    idx = torch.arange(length, device=feats.device)
    if mode == 'max':
        diag = feats
        out[..., idx, idx] = diag
        for offset in range(1, length):
            diag = torch.maximum(diag[..., :-1], feats[..., offset:])
            out[..., idx[:-offset], idx[offset:]] = diag
        return out
    if mode == 'avg':
        csum = F.pad(feats.cumsum(-1), (1, 0))
        for offset in range(length):
            sums = csum[..., offset + 1:] - csum[..., :length - offset]
            out[..., idx[:length - offset], idx[offset:]] = sums / (offset + 1)
        return out
    raise ValueError(f'mode must be "max" or "avg", got {mode!r}')


def sparse_span_mask(num_cells: int, num_dense: Optional[int] = None,
                     device: Optional[torch.device] = None) -> torch.Tensor:
    """Candidate spans ``[T, T]`` (bool) of 2D-TAN's sparse sampling.

    Spans of up to ``num_dense`` cells are all candidates; longer spans are sampled on coarser
    strides: a span of ``n`` cells with ``num_dense * 2**(s-1) < n <= num_dense * 2**s`` is kept
    when its start and its end + 1 are multiples of ``2**s``. ``num_dense=None`` keeps every span
    ``i <= j`` (the dense map).
    """
    idx = torch.arange(num_cells, device=device)
    start, end = idx[:, None], idx[None, :]
    upper = end >= start
    if num_dense is None:
        return upper
    if num_dense < 1:
        raise ValueError(f'num_dense must be positive, got {num_dense}')
    span = (end - start + 1).clamp(min=1).float()
    level = torch.ceil(torch.log2(span / num_dense).clamp(min=0) - 1e-6).clamp(min=0)
    stride = (2 ** level).long()
    return upper & (start % stride == 0) & ((end + 1) % stride == 0)


def valid_span_mask(grid_len: torch.Tensor, num_cells: int,
                    num_dense: Optional[int] = None) -> torch.Tensor:
    """Candidate spans ``[B, T, T]`` (bool): ``i <= j < grid_len[b]`` and sampled (see
    :func:`sparse_span_mask`)."""
    idx = torch.arange(num_cells, device=grid_len.device)
    inside = idx[None, :] < grid_len[:, None]
    return (sparse_span_mask(num_cells, num_dense, grid_len.device)[None] &
            inside[:, :, None] & inside[:, None, :])


@MODELS.register_module()
class TemporalMapConvStack(nn.Module):
    """2-D convolutions over a temporal map, re-masked after every layer (2D-TAN's map
    convolutions: neighbouring candidates share context).

    Args:
        in_channels: Input channels.
        hidden_channels: Channels of every layer.
        num_layers: Convolution layers (2D-TAN: 8 on TACoS, 4 on Charades-STA/ActivityNet).
        kernel_size: Odd kernel size (2D-TAN: 5 on TACoS, 9 on Charades-STA/ActivityNet);
            'same' padding.
        dropout: Dropout after every layer.
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_layers: int,
                 kernel_size: int = 5, dropout: float = 0.0) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f'kernel_size must be odd, got {kernel_size}')
        channels = [in_channels] + [hidden_channels] * num_layers
        self.convs = nn.ModuleList(
            nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2)
            for c_in, c_out in zip(channels[:-1], channels[1:]))
        self.drop = nn.Dropout(dropout)
        self.out_channels = channels[-1]

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``x`` ``[B, C, T, T]`` and ``mask`` ``[B, T, T]`` → ``[B, hidden, T, T]`` (0 outside
        the mask)."""
        keep = mask[:, None].to(x.dtype)
        x = x * keep
        for conv in self.convs:
            x = self.drop(F.relu(conv(x))) * keep
        return x

