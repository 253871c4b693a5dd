"""Losses of the weakly-supervised multi-modal distillation (``docs/weakly_supervised.md``):
a divergence between activation maps over clips (the teacher's cross-modal mutual learning and
the global level of the distillation) and the boundary-level (local) distillation of proposals."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS

from ..utils.decoding import moment_iou

#: Divergences of :class:`MapDivergenceLoss`.
DIVERGENCES = ('kl', 'js')
#: Floor of probabilities before their log.
_EPS = 1e-8


def masked_kl(target: torch.Tensor, pred: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``KL(target || pred)`` ``[B]`` of distributions over the valid clips (``[B, L]``,
    ``mask`` 1 on valid clips)."""
    terms = target * (torch.log(target.clamp(min=_EPS)) - torch.log(pred.clamp(min=_EPS)))
    return (terms * mask).sum(-1)


@MODELS.register_module()
class MapDivergenceLoss(nn.Module):
    """Divergence of a predicted activation map from a target map, both distributions over the
    valid clips ``[B, L]``; the target gets no gradient.

    Args:
        divergence: ``'kl'`` (``KL(target || pred)``) or ``'js'`` (Jensen-Shannon).
        loss_weight: Weight of the loss.
    """

    def __init__(self, divergence: str = 'kl', loss_weight: float = 1.0) -> None:
        super().__init__()
        if divergence not in DIVERGENCES:
            raise ValueError(f'divergence must be one of {DIVERGENCES}, got {divergence!r}')
        self.divergence = divergence
        self.loss_weight = loss_weight

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        """Mean over the batch, times ``loss_weight``."""
        target = target.detach()
        if self.divergence == 'kl':
            value = masked_kl(target, pred, mask)
        else:
            middle = (pred + target) / 2
            value = (masked_kl(target, middle, mask) + masked_kl(pred, middle, mask)) / 2
        return self.loss_weight * value.mean()


@MODELS.register_module()
class BoundaryDistillLoss(nn.Module):
    """Local (boundary-level) distillation of a teacher's top proposals into a student's.

    For each of the teacher's ``topk`` best proposals (scores renormalised over them), the
    student proposal that overlaps it most (chosen without gradient) regresses its centre and
    width onto the teacher's (smooth L1, ``box_weight``); and the student's proposal ranking
    (log-scores) is pulled towards the teacher's: target ``q_k`` proportional to
    ``max_m s_m IoU(student_k, teacher_m)`` (plus a floor), ``KL(q || student scores)``
    (``rank_weight``).

    Args:
        topk: Teacher proposals distilled per query.
        box_weight: Weight of the centre/width regression.
        rank_weight: Weight of the ranking term.
        loss_weight: Weight of the whole loss.
    """

    def __init__(self, topk: int = 1, box_weight: float = 1.0, rank_weight: float = 1.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if topk < 1:
            raise ValueError(f'topk must be at least 1, got {topk}')
        self.topk, self.box_weight, self.rank_weight = topk, box_weight, rank_weight
        self.loss_weight = loss_weight

    def forward(self, centres: torch.Tensor, widths: torch.Tensor,
                log_scores: Optional[torch.Tensor], teacher_moments: torch.Tensor,
                teacher_scores: torch.Tensor) -> torch.Tensor:
        """Loss of student proposals ``centres``, ``widths`` ``[B, K]`` (fractions) and their
        ``log_scores`` ``[B, K]`` (log-probabilities; None: no ranking term) against teacher
        proposals ``[B, M, 2]`` (start, end fractions) scored ``[B, M]``."""
        teacher_moments, teacher_scores = teacher_moments.detach(), teacher_scores.detach()
        best, idx = teacher_scores.topk(min(self.topk, teacher_scores.shape[1]), dim=1)
        weights = best / best.sum(1, keepdim=True).clamp(min=_EPS)  # [B, M]
        target = torch.gather(teacher_moments, 1, idx[..., None].expand(-1, -1, 2))
        student = torch.stack([(centres - widths / 2).clamp(0, 1),
                               (centres + widths / 2).clamp(0, 1)], dim=-1)
        iou = moment_iou(student.detach(), target)  # [B, K, M]
        matched = iou.argmax(1)  # [B, M]
        pred = torch.stack([centres.gather(1, matched), widths.gather(1, matched)], dim=-1)
        goal = torch.stack([target.mean(-1), target[..., 1] - target[..., 0]], dim=-1)
        box = (F.smooth_l1_loss(pred, goal, reduction='none', beta=0.1).sum(-1)
               * weights).sum(1)
        loss = self.box_weight * box
        if log_scores is not None and self.rank_weight:
            affinity = (iou * weights[:, None]).amax(-1) + 1e-3  # [B, K]
            rank_target = affinity / affinity.sum(1, keepdim=True)
            rank = (rank_target * (rank_target.log() - log_scores)).sum(1)
            loss = loss + self.rank_weight * rank
        return self.loss_weight * loss.mean()
