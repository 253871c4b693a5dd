"""Masked operations over padded sequences (mask: 1 = valid, 0 = padding)."""
import torch

from .decoding import NEG_INF


def masked_softmax(logits: torch.Tensor, mask: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax of ``logits`` along ``dim`` with masked positions at probability 0.

    Args:
        logits: Scores of any shape.
        mask: A tensor that broadcasts to ``logits`` (1 valid, 0 padding).
        dim: Axis of the softmax.
    """
    return torch.softmax(logits.masked_fill(mask == 0, NEG_INF), dim=dim)


def apply_mask(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Zero the padded positions of ``x`` ``[B, L, D]`` with ``mask`` ``[B, L]``."""
    return x * mask[..., None].to(x.dtype)


def valid_lengths(mask: torch.Tensor) -> torch.Tensor:
    """Number of valid positions ``[B]`` (long) of ``mask`` ``[B, L]``."""
    return (mask > 0).sum(-1).long()
