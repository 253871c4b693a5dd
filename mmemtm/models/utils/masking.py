"""Masked operations over padded sequences (mask: 1 = valid, 0 = padding)."""
import torch

from .decoding import NEG_INF


def masked_softmax(logits: torch.Tensor, mask: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax of ``logits`` along ``dim`` with masked positions at probability 0.

    The masked positions get :func:`mask_bias` added (not filled in): a broadcast addition of a
    small bias is cheaper than a filled copy of ``logits``, most of all in ONNX Runtime, and
    gives the same probabilities (a row with no valid position is uniform either way).

    Args:
        logits: Scores of any shape.
        mask: A tensor that broadcasts to ``logits`` (1 valid, 0 padding).
        dim: Axis of the softmax.
    """
    return torch.softmax(logits + mask_bias(mask, logits.dtype), dim=dim)


def mask_bias(mask: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Additive bias of ``mask``: 0 at valid positions, a large negative number at padding
    (:data:`NEG_INF`, or the lowest finite value of ``dtype`` where that is higher).

    Added to scores of magnitude below about 1e22 it rounds to exactly that number, so the
    padded positions get softmax weight 0 and the valid scores are unchanged.
    """
    return (mask == 0).to(dtype) * max(NEG_INF, torch.finfo(dtype).min)


def apply_mask(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Zero the padded positions of ``x`` ``[B, L, D]`` with ``mask`` ``[B, L]``."""
    return x * mask[..., None].to(x.dtype)


def valid_lengths(mask: torch.Tensor) -> torch.Tensor:
    """Number of valid positions ``[B]`` (long) of ``mask`` ``[B, L]``."""
    return (mask > 0).sum(-1).long()
