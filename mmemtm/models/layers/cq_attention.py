"""Context-query attention with a trilinear similarity (BiDAF/QANet/VSLNet fusion)."""
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from ..utils import apply_mask, glorot_init_cfg, glorot_parameter, masked_softmax


class CQAttention(BaseModule):
    """Fuses a query sequence into a context sequence.

    ``S[i, j] = C_i . w_c + Q_j . w_q + (C_i * w_m) . Q_j`` (no bias) is computed from
    dropped-out copies of ``C`` and ``Q``; ``S_r`` is its softmax over the valid query positions
    ``j`` and ``S_c`` its softmax over the valid context positions ``i``. With ``A = S_r Q`` and
    ``B = S_r S_c^T C`` the output is ``Linear_{4D->D, no bias}([C; A; C * A; C * B])``.

    Args:
        dim: Feature dimension ``D``.
        drop_rate: Dropout on ``C`` and ``Q`` for the similarity only.
        init_cfg: mmengine initialisation config (default: Glorot-uniform).
    """

    def __init__(self, dim: int = 128, drop_rate: float = 0.0,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=glorot_init_cfg() if init_cfg is None else init_cfg)
        self.context_weight = nn.Linear(dim, 1, bias=False)
        self.query_weight = nn.Linear(dim, 1, bias=False)
        self.mixed_weight = glorot_parameter(1, dim)
        self.dropout = nn.Dropout(drop_rate)
        self.proj = nn.Linear(4 * dim, dim, bias=False)

    def similarity(self, context: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """Trilinear similarity ``S`` ``[B, Lc, Lq]``."""
        context, query = self.dropout(context), self.dropout(query)
        return (self.context_weight(context) + self.query_weight(query).transpose(1, 2) +
                torch.matmul(context * self.mixed_weight, query.transpose(1, 2)))

    def forward(self, context: torch.Tensor, query: torch.Tensor, context_mask: torch.Tensor,
                query_mask: torch.Tensor) -> torch.Tensor:
        """``context`` ``[B, Lc, D]``, ``query`` ``[B, Lq, D]``, masks ``[B, Lc]`` / ``[B, Lq]``
        -> ``[B, Lc, D]`` (zero at padded context positions)."""
        score = self.similarity(context, query)
        row = masked_softmax(score, query_mask[:, None, :], dim=2)
        col = masked_softmax(score, context_mask[:, :, None], dim=1)
        c2q = torch.matmul(row, query)
        q2c = torch.matmul(row, torch.matmul(col.transpose(1, 2), context))
        fused = torch.cat([context, c2q, context * c2q, context * q2c], -1)
        return apply_mask(self.proj(fused), context_mask)
