"""A stack of dual attention blocks that updates the video and the query together."""
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
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
        final_norm: LayerNorm the outputs of the last block (default). The blocks are pre-LN
            residual updates, so their output stream grows with depth and, in training, with the
            inverted dropout inside each block (x1.7 in norm at 2 blocks and dropout 0.4 on
            Charades CLIP features); the CQ attention after them multiplies video and query
            features, so the start/end logits grow with the square of that norm (std 8 instead
            of 0.9 at init) and training collapses onto the whole-video prior. False: the
            reference, whose head reads the unnormalised stream.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self, dim: int = 128, num_layers: int = 2, num_heads: int = 8,
                 drop_rate: float = 0.0, final_norm: bool = True,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.blocks = ModuleList(
            DualAttentionBlock(dim, num_heads, drop_rate) for _ in range(num_layers))
        use_norm = final_norm and num_layers > 0
        self.video_norm = nn.LayerNorm(dim, eps=1e-6) if use_norm else None
        self.query_norm = nn.LayerNorm(dim, eps=1e-6) if use_norm else None

    def forward(self, video: torch.Tensor, query: torch.Tensor, video_mask: torch.Tensor,
                query_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``video`` ``[B, L, D]``, ``query`` ``[B, N, D]`` (and masks ``[B, L]`` / ``[B, N]``)
        -> updated ``(video [B, L, D], query [B, N, D])``, zero at padded positions."""
        for block in self.blocks:
            video, query = (block(video, query, video_mask, query_mask),
                            block(query, video, query_mask, video_mask))
        if self.video_norm is not None:
            video = self.video_norm(video) * video_mask[..., None]
            query = self.query_norm(query) * query_mask[..., None]
        return video, query
