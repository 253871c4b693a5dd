"""SeqPAN's dual attention block: self- and cross-attention fused by mutual gating."""
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from ..utils import apply_mask, glorot_init_cfg, multi_head_attention


class DualAttentionBlock(BaseModule):
    """Updates ``X`` ``[B, Lx, D]`` from itself and from ``Y`` ``[B, Ly, D]``.

    With ``x = LN1(X)`` and ``y = LN_t(Y)``:

    * queries from ``x``; self keys/values from ``x`` and cross keys/values from ``y`` (separate
      linears); masked multi-head attention of each path (dropout on the probabilities), each
      followed by its output linear: ``s`` (self) and ``c`` (cross);
    * cross gating: ``o = Lin(sigmoid(Lin(s)) * c + sigmoid(Lin(c)) * s)``;
    * bilinear gate: ``sigmoid(W1 x + W2 o + b) * (W3 x + W4 o + b')``;
    * ``X <- X + Dropout(Lin(gate))``, then ``X <- X + Dropout(Lin(Dropout(LN2(X))))``.

    SeqPAN applies one block in both directions, ``V' = DAB(V, Q)`` and ``Q' = DAB(Q, V)``, with
    the same weights.

    Args:
        dim: Feature dimension ``D``.
        num_heads: Attention heads.
        drop_rate: Dropout rate.
        init_cfg: mmengine initialisation config (default: Glorot-uniform, zero biases).
    """

    def __init__(self, dim: int = 128, num_heads: int = 8, drop_rate: float = 0.0,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=glorot_init_cfg() if init_cfg is None else init_cfg)
        if dim % num_heads:
            raise ValueError(f'dim {dim} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.from_norm = nn.LayerNorm(dim, eps=1e-6)
        self.to_norm = nn.LayerNorm(dim, eps=1e-6)
        self.query = nn.Linear(dim, dim)
        self.self_key = nn.Linear(dim, dim)
        self.self_value = nn.Linear(dim, dim)
        self.cross_key = nn.Linear(dim, dim)
        self.cross_value = nn.Linear(dim, dim)
        self.self_out = nn.Linear(dim, dim)
        self.cross_out = nn.Linear(dim, dim)
        self.self_gate = nn.Linear(dim, dim)
        self.cross_gate = nn.Linear(dim, dim)
        self.guided = nn.Linear(dim, dim)
        self.score_x = nn.Linear(dim, dim, bias=False)
        self.score_o = nn.Linear(dim, dim)
        self.value_x = nn.Linear(dim, dim, bias=False)
        self.value_o = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)
        self.ffn_norm = nn.LayerNorm(dim, eps=1e-6)
        self.ffn = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(drop_rate)

    def dual_attention(self, x: torch.Tensor, y: torch.Tensor, x_mask: torch.Tensor,
                       y_mask: torch.Tensor) -> torch.Tensor:
        """Gated fusion of self- and cross-attention: normalised ``x`` ``[B, Lx, D]`` and
        ``y`` ``[B, Ly, D]`` -> ``[B, Lx, D]``."""
        query = self.query(x)
        attn_self = self.self_out(multi_head_attention(
            query, self.self_key(x), self.self_value(x), x_mask, self.num_heads, self.dropout))
        attn_cross = self.cross_out(multi_head_attention(
            query, self.cross_key(y), self.cross_value(y), y_mask, self.num_heads, self.dropout))
        guided = self.guided(torch.sigmoid(self.self_gate(attn_self)) * attn_cross +
                             torch.sigmoid(self.cross_gate(attn_cross)) * attn_self)
        score = self.score_x(x) + self.score_o(guided)
        value = self.value_x(x) + self.value_o(guided)
        return torch.sigmoid(score) * value

    def forward(self, x: torch.Tensor, y: torch.Tensor, x_mask: torch.Tensor,
                y_mask: torch.Tensor) -> torch.Tensor:
        """``x`` ``[B, Lx, D]``, ``y`` ``[B, Ly, D]``, masks ``[B, Lx]`` / ``[B, Ly]`` ->
        ``[B, Lx, D]`` (zero at padded positions of ``x``)."""
        fused = self.dual_attention(self.from_norm(x), self.to_norm(y), x_mask, y_mask)
        x = x + self.dropout(self.out_proj(apply_mask(fused, x_mask)))
        x = x + self.dropout(self.ffn(self.dropout(self.ffn_norm(x))))
        return apply_mask(x, x_mask)
