"""Multi-head scaled dot-product attention over padded sequences."""
import math
from typing import Optional

import torch
import torch.nn as nn

from .masking import masked_softmax


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """``[B, L, D]`` -> ``[B, H, L, D / H]``."""
    batch, length, dim = x.shape
    if dim % num_heads:
        raise ValueError(f'dimension {dim} is not divisible by {num_heads} heads')
    return x.view(batch, length, num_heads, dim // num_heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """``[B, H, L, D / H]`` -> ``[B, L, D]``."""
    batch, heads, length, size = x.shape
    return x.transpose(1, 2).reshape(batch, length, heads * size)


def multi_head_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                         key_mask: torch.Tensor, num_heads: int,
                         dropout: Optional[nn.Module] = None) -> torch.Tensor:
    """Masked multi-head attention of projected sequences (no output projection).

    Args:
        query: ``[B, Lq, D]`` projected queries.
        key: ``[B, Lk, D]`` projected keys.
        value: ``[B, Lk, D]`` projected values.
        key_mask: ``[B, Lk]`` valid keys (padded keys get weight 0).
        num_heads: Heads ``H``; each attends with ``D / H`` dimensions.
        dropout: Dropout applied to the attention probabilities.

    Returns:
        torch.Tensor: ``[B, Lq, D]`` concatenated head outputs.
    """
    q, k, v = (split_heads(t, num_heads) for t in (query, key, value))
    # The head size is a constant of the model (also in traced graphs, where a scale computed
    # from the traced shape would be a run-time Pow); scaling the queries costs D / H times
    # less than scaling the scores.
    scores = torch.matmul(q * (1.0 / math.sqrt(q.shape[-1])), k.transpose(-1, -2))
    probs = masked_softmax(scores, key_mask[:, None, None, :])
    if dropout is not None:
        probs = dropout(probs)
    return merge_heads(torch.matmul(probs, v))
