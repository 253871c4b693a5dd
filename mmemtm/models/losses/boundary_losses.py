"""Cross-entropy of start/end logits against soft boundary labels."""
import torch

from ..utils.decoding import masked_log_softmax


def masked_soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor,
                              mask: torch.Tensor) -> torch.Tensor:
    """Batch mean of ``-sum_t target_t * log softmax(masked logits)_t``.

    Args:
        logits: ``[B, L]`` scores.
        target: ``[B, L]`` target distribution (0 on padding).
        mask: ``[B, L]`` valid positions (1) and padding (0).

    Returns:
        torch.Tensor: Scalar loss.
    """
    log_prob = masked_log_softmax(logits, mask)
    return -(target * log_prob.masked_fill(mask == 0, 0.0)).sum(-1).mean()
