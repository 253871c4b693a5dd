"""Concatenation of a context sequence with an attention-pooled query vector."""
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from ..utils import apply_mask, glorot_init_cfg, masked_softmax


class CQConcat(BaseModule):
    """``F = Linear_{2D->D}([C; g])`` with ``g`` the query pooled by a learned vector ``w``.

    ``g = sum_j softmax_j(Q_j . w) Q_j`` over the valid query positions, tiled over the context.

    Args:
        dim: Feature dimension ``D``.
        init_cfg: mmengine initialisation config (default: Glorot-uniform, zero biases).
    """

    def __init__(self, dim: int = 128, init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=glorot_init_cfg() if init_cfg is None else init_cfg)
        self.pool_weight = nn.Linear(dim, 1, bias=False)
        self.proj = nn.Linear(2 * dim, dim)

    def pool(self, query: torch.Tensor, query_mask: torch.Tensor) -> torch.Tensor:
        """Attention pooling: ``query`` ``[B, N, D]`` -> ``[B, D]``."""
        weights = masked_softmax(self.pool_weight(query).squeeze(-1), query_mask)
        return torch.matmul(weights[:, None, :], query).squeeze(1)

    def forward(self, context: torch.Tensor, query: torch.Tensor, context_mask: torch.Tensor,
                query_mask: torch.Tensor) -> torch.Tensor:
        """``context`` ``[B, L, D]``, ``query`` ``[B, N, D]``, masks ``[B, L]`` / ``[B, N]`` ->
        ``[B, L, D]`` (zero at padded context positions)."""
        pooled = self.pool(query, query_mask)[:, None].expand_as(context)
        return apply_mask(self.proj(torch.cat([context, pooled], -1)), context_mask)
