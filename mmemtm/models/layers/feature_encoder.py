"""SeqPAN's feature encoder: positions, convolutions, pre-LN self-attention and a linear."""
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from .conv_block import ConvBlock
from ..utils import apply_mask, glorot_init_cfg
from .position_embedding import PositionEmbedding
from .self_attention import MaskedSelfAttention


class FeatureEncoder(BaseModule):
    """``x + P'[:L]`` -> :class:`ConvBlock` -> pre-LN self-attention -> pre-LN linear.

    * ``x <- x + Dropout(MHSA(Dropout(LN1(x))))`` (:class:`MaskedSelfAttention`, no output
      projection);
    * ``x <- x + Dropout(Linear(Dropout(LN2(x))))``.

    Args:
        dim: Feature dimension ``D``.
        max_len: Rows of its own position table ``P'``.
        num_heads: Attention heads.
        num_conv_layers: Layers of the convolution block.
        kernel_size: Width of the depthwise convolutions.
        drop_rate: Dropout rate of every part.
        init_cfg: mmengine initialisation config (default: Glorot-uniform, zero biases).
    """

    def __init__(self, dim: int = 128, max_len: int = 256, num_heads: int = 8,
                 num_conv_layers: int = 4, kernel_size: int = 7, drop_rate: float = 0.0,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=glorot_init_cfg() if init_cfg is None else init_cfg)
        self.position = PositionEmbedding(max_len, dim)
        self.conv_block = ConvBlock(dim, num_conv_layers, kernel_size, drop_rate)
        self.attn_norm = nn.LayerNorm(dim, eps=1e-6)
        self.attention = MaskedSelfAttention(dim, num_heads, drop_rate)
        self.ffn_norm = nn.LayerNorm(dim, eps=1e-6)
        self.ffn = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(drop_rate)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``x`` ``[B, L, D]``, ``mask`` ``[B, L]`` -> ``[B, L, D]`` (zero at padding)."""
        x = self.conv_block(self.position(x), mask)
        x = x + self.dropout(self.attention(self.dropout(self.attn_norm(x)), mask))
        x = x + self.dropout(self.ffn(self.dropout(self.ffn_norm(x))))
        return apply_mask(x, mask)
