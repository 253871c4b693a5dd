"""Cross-entropy of start/end logits against soft boundary labels."""
import torch
import torch.nn as nn
from mmaction.registry import MODELS

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


@MODELS.register_module()
class SoftBoundaryLoss(nn.Module):
    """``loss_weight`` times :func:`masked_soft_cross_entropy`: boundary logits ``[B, L]``
    against soft labels ``[B, L]`` over the valid clips ``[B, L]``."""

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor, target: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * masked_soft_cross_entropy(logits, target, mask)
