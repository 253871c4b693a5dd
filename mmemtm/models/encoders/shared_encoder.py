"""Encoder shared by the video and the query streams (EMTM's Shared Encoder)."""
from typing import Optional, Tuple, Union

import torch
from mmengine.model import BaseModule

from ..layers.position_embedding import PositionEmbedding
from ..layers.conv_block import ConvBlock


class SharedEncoder(BaseModule):
    """One position table and one :class:`ConvBlock`, applied to both streams.

    ``Venc = ConvBlock(V0 + P[:L])`` and ``Qenc = ConvBlock(Q0 + P[:N])`` with the same
    ``P`` ``[max_len, D]`` and the same convolution weights.

    Args:
        dim: Feature dimension ``D``.
        max_len: Rows of the position table (``max_vlen``; must also cover the query length).
        num_layers: Layers of the convolution block.
        kernel_size: Width of the depthwise convolutions.
        drop_rate: Dropout of the convolution block.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self, dim: int = 128, max_len: int = 256, num_layers: int = 4,
                 kernel_size: int = 7, drop_rate: float = 0.0,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.position = PositionEmbedding(max_len, dim)
        self.conv_block = ConvBlock(dim, num_layers, kernel_size, drop_rate)

    def encode(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """One stream: ``x`` ``[B, L, D]``, ``mask`` ``[B, L]`` -> ``[B, L, D]``."""
        return self.conv_block(self.position(x), mask)

    def forward(self, video: torch.Tensor, video_mask: torch.Tensor, query: torch.Tensor,
                query_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``video`` ``[B, L, D]``, ``query`` ``[B, N, D]`` (and their masks) ->
        ``(Venc [B, L, D], Qenc [B, N, D])``."""
        return self.encode(video, video_mask), self.encode(query, query_mask)
