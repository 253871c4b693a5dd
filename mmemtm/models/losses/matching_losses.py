"""Losses of the begin/inside/end/outside matching head (SeqPAN's sequence matching)."""
import torch
import torch.nn.functional as F


def masked_tag_cross_entropy(logits: torch.Tensor, labels: torch.Tensor,
                             mask: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of per-position class logits, averaged over the valid positions of the
    whole batch.

    Args:
        logits: ``[B, L, C]`` class logits.
        labels: ``[B, L]`` class indices (long).
        mask: ``[B, L]`` valid positions (1) and padding (0).

    Returns:
        torch.Tensor: Scalar loss.
    """
    loss = F.cross_entropy(logits.transpose(1, 2), labels.long(), reduction='none')
    mask = mask.to(loss.dtype)
    return (loss * mask).sum() / mask.sum().clamp(min=1.0)


def label_orthogonality_loss(embedding: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """``||(E E^T) * (1 - I)||_F``: how far the rows of ``E`` are from being orthogonal.

    Args:
        embedding: ``[C, D]`` label embeddings.
        eps: The square root is taken of at least ``eps`` (finite gradient near 0); an exactly
            orthogonal ``E`` gives exactly 0 with a zero gradient.

    Returns:
        torch.Tensor: Scalar loss.
    """
    gram = embedding @ embedding.t()
    off_diagonal = gram * (1.0 - torch.eye(len(gram), dtype=gram.dtype, device=gram.device))
    squared = off_diagonal.pow(2).sum()
    return torch.where(squared > 0, squared.clamp(min=eps).sqrt(), squared)
