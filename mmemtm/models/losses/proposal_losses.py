"""Losses of the candidate-moment teachers: 2D-TAN's scaled-IoU cross-entropy over a 2-D map of
spans, and SCDM's boundary regression of positive anchors."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS


def scaled_iou_targets(iou: torch.Tensor, iou_min: float, iou_max: float) -> torch.Tensor:
    """2D-TAN's training targets: ``clamp((iou - iou_min) / (iou_max - iou_min), 0, 1)``."""
    if not iou_max > iou_min:
        raise ValueError(f'iou_max ({iou_max}) must be greater than iou_min ({iou_min})')
    return ((iou - iou_min) / (iou_max - iou_min)).clamp(0.0, 1.0)


@MODELS.register_module()
class ScaledIoULoss(nn.Module):
    """2D-TAN's loss: binary cross-entropy of span logits against the spans' IoU with the
    ground truth, rescaled linearly so that ``iou_min`` maps to 0 and ``iou_max`` to 1, averaged
    over the candidate spans of the batch.

    Args:
        iou_min: IoU mapped to target 0 (2D-TAN: TACoS 0.3, Charades-STA/ActivityNet 0.5).
        iou_max: IoU mapped to target 1 (TACoS 0.7, Charades-STA/ActivityNet 1.0).
        loss_weight: Multiplier of the loss.
    """

    def __init__(self, iou_min: float = 0.3, iou_max: float = 0.7,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if not 0 <= iou_min < iou_max <= 1:
            raise ValueError(f'need 0 <= iou_min < iou_max <= 1, got {iou_min}, {iou_max}')
        self.iou_min, self.iou_max = iou_min, iou_max
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor, iou: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        """``logits``, ``iou`` and candidate ``mask`` (bool) ``[B, T, T]`` -> scalar."""
        target = scaled_iou_targets(iou, self.iou_min, self.iou_max)
        loss = F.binary_cross_entropy_with_logits(logits, target, reduction='none')
        return self.loss_weight * (loss * mask).sum() / mask.sum().clamp(min=1)


@MODELS.register_module()
class AnchorRegressionLoss(nn.Module):
    """SCDM's boundary regression: smooth L1 of the predicted ``(d_centre, d_width)`` offsets
    against the encoded ground truth, on the positive anchors (IoU >= ``pos_iou``, plus each
    query's best anchor, so that every query has one).

    Args:
        pos_iou: IoU from which an anchor's offsets are trained.
        loss_weight: Multiplier of the loss.
    """

    def __init__(self, pos_iou: float = 0.5, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.pos_iou = pos_iou
        self.loss_weight = loss_weight

    def forward(self, offsets: torch.Tensor, target: torch.Tensor,
                iou: torch.Tensor) -> torch.Tensor:
        """``offsets``/``target`` ``[B, M, 2]``, anchors' ``iou`` ``[B, M]`` -> scalar."""
        positive = iou >= self.pos_iou
        positive[torch.arange(len(iou), device=iou.device), iou.argmax(1)] = True
        return self.loss_weight * F.smooth_l1_loss(offsets[positive], target[positive])
