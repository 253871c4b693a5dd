"""PyTorch's ``nn.MultiheadAttention`` and post-norm ``nn.TransformerEncoderLayer`` (batch first,
ReLU, no dropout) written with mmemtm's masked attention: the same parameters (names, shapes and
initialisation, so their checkpoints load) and the same maths, in operations the TorchScript ONNX
exporter traces with dynamic sequence lengths (PyTorch's own fix the traced lengths)."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..utils import multi_head_attention


class PackedMultiheadAttention(nn.Module):
    """``nn.MultiheadAttention(dim, num_heads, batch_first=True)`` without dropout.

    Args:
        dim: Feature size ``D``.
        num_heads: Heads (each of ``D / num_heads``).
    """

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim {dim} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        # PyTorch's order of initialisation: the output linear first, then the packed inputs.
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.in_proj_bias)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                key_padding_mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, None]:
        """``query`` ``[B, Lq, D]`` attends to ``key``/``value`` ``[B, Lk, D]`` (``True`` in
        ``key_padding_mask`` ``[B, Lk]``: padding); returns ``([B, Lq, D], None)`` as
        ``nn.MultiheadAttention`` (no attention weights)."""
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = self.in_proj_bias.chunk(3)
        keep = (torch.ones_like(key[..., 0]) if key_padding_mask is None
                else (~key_padding_mask).to(key.dtype))
        out = multi_head_attention(F.linear(query, w_q, b_q), F.linear(key, w_k, b_k),
                                   F.linear(value, w_v, b_v), keep, self.num_heads)
        return self.out_proj(out), None


class PackedTransformerEncoderLayer(nn.Module):
    """``nn.TransformerEncoderLayer(dim, num_heads, ffn_dim, dropout=0, batch_first=True)``:
    post-norm self-attention and ReLU feed-forward blocks.

    Args:
        dim: Feature size ``D``.
        num_heads: Heads.
        ffn_dim: Hidden size of the feed-forward block.
    """

    def __init__(self, dim: int, num_heads: int, ffn_dim: int) -> None:
        super().__init__()
        self.self_attn = PackedMultiheadAttention(dim, num_heads)
        self.linear1 = nn.Linear(dim, ffn_dim)
        self.linear2 = nn.Linear(ffn_dim, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor,
                src_key_padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``x`` ``[B, L, D]`` -> ``[B, L, D]`` (``True`` in ``src_key_padding_mask``:
        padding, never attended to)."""
        x = self.norm1(x + self.self_attn(x, x, x, key_padding_mask=src_key_padding_mask)[0])
        return self.norm2(x + self.linear2(F.relu(self.linear1(x))))
