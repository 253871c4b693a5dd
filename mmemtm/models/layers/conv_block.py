"""Residual stack of depthwise-separable 1-D convolutions (QANet/VSLNet encoder block)."""
from typing import Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from ..utils import apply_mask, glorot_init_cfg


class ConvBlock(BaseModule):
    """``num_layers`` residual layers of
    ``x <- x + Dropout(ReLU(pointwise(depthwise(LN(x)))))`` over the time axis.

    The depthwise convolution (``kernel_size``, same padding, no bias) mixes each channel over
    time; the pointwise convolution (``D -> D`` with bias) mixes channels. Padded positions are
    zeroed before every depthwise convolution, so they cannot change the valid outputs, and the
    output is zero at padded positions.

    The weights are those of 1-D convolutions (``nn.Conv1d``, as in checkpoints), applied as 2-D
    convolutions of height 1 (``[B, D, 1, L]``): the same sums, about twice as fast in PyTorch
    and in ONNX Runtime, whose blocked-layout kernels take only 2-D convolutions.

    Args:
        dim: Feature dimension ``D``.
        num_layers: Residual layers.
        kernel_size: Width of the depthwise convolution (odd).
        drop_rate: Dropout on each layer's output.
        init_cfg: mmengine initialisation config (default: Glorot-uniform, zero biases).
    """

    def __init__(self, dim: int, num_layers: int = 4, kernel_size: int = 7,
                 drop_rate: float = 0.0,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=glorot_init_cfg() if init_cfg is None else init_cfg)
        if kernel_size % 2 == 0:
            raise ValueError(f'kernel_size must be odd for same padding, got {kernel_size}')
        self.norms = nn.ModuleList(nn.LayerNorm(dim, eps=1e-6) for _ in range(num_layers))
        self.depthwise = nn.ModuleList(
            nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim, bias=False)
            for _ in range(num_layers))
        self.pointwise = nn.ModuleList(nn.Conv1d(dim, dim, 1) for _ in range(num_layers))
        self.dropout = nn.Dropout(drop_rate)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``x`` ``[B, L, D]``, ``mask`` ``[B, L]`` -> ``[B, L, D]`` (zero at padding)."""
        for norm, depthwise, pointwise in zip(self.norms, self.depthwise, self.pointwise):
            h = apply_mask(norm(x), mask).unsqueeze(1).permute(0, 3, 1, 2)
            h = F.conv2d(h, depthwise.weight.unsqueeze(2), padding=(0, depthwise.padding[0]),
                         groups=depthwise.groups)
            h = torch.relu(F.conv2d(h, pointwise.weight.unsqueeze(2), pointwise.bias))
            x = x + self.dropout(h.permute(0, 2, 3, 1).squeeze(1))
        return apply_mask(x, mask)
