"""A stack of dual attention blocks that updates the video and the query together."""
from typing import Optional, Tuple, Union

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule, ModuleList

from ..layers.dual_attention import DualAttentionBlock


@MODELS.register_module()
class DualAttentionEncoder(BaseModule):
    """``num_layers`` :class:`DualAttentionBlock`; layer ``l`` computes
    ``V' = DAB_l(V, Q)`` and ``Q' = DAB_l(Q, V)`` from the same input pair, with the same
    weights for both directions.

    Args:
        dim: Feature dimension ``D``.
        num_layers: Blocks (SeqPAN and EMTM's co-trained teacher: 2).
        num_heads: Attention heads.
        drop_rate: Dropout rate.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self, dim: int = 128, num_layers: int = 2, num_heads: int = 8,
                 drop_rate: float = 0.0, init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.blocks = ModuleList(
            DualAttentionBlock(dim, num_heads, drop_rate) for _ in range(num_layers))

    def forward(self, video: torch.Tensor, query: torch.Tensor, video_mask: torch.Tensor,
                query_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``video`` ``[B, L, D]``, ``query`` ``[B, N, D]`` (and masks) -> updated
        ``(video [B, L, D], query [B, N, D])``."""
        for block in self.blocks:
            video, query = (block(video, query, video_mask, query_mask),
                            block(query, video, query_mask, video_mask))
        return video, query
