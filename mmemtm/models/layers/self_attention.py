"""Masked multi-head self-attention without an output projection (SeqPAN's predictor)."""
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from ..utils import apply_mask, glorot_init_cfg, multi_head_attention


class MaskedSelfAttention(BaseModule):
    """Scaled dot-product self-attention with separate Q/K/V linears (with bias).

    The heads' outputs are concatenated and returned as they are: there is no output
    projection. Padded positions are never attended to, and their outputs are zero.

    Args:
        dim: Feature dimension ``D``.
        num_heads: Heads (each of size ``D / num_heads``).
        drop_rate: Dropout on the attention probabilities.
        init_cfg: mmengine initialisation config (default: Glorot-uniform, zero biases).
    """

    def __init__(self, dim: int = 128, num_heads: int = 8, drop_rate: float = 0.0,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=glorot_init_cfg() if init_cfg is None else init_cfg)
        if dim % num_heads:
            raise ValueError(f'dim {dim} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(drop_rate)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``x`` ``[B, L, D]``, ``mask`` ``[B, L]`` -> ``[B, L, D]``."""
        out = multi_head_attention(self.query(x), self.key(x), self.value(x), mask,
                                   self.num_heads, self.dropout)
        return apply_mask(out, mask)
