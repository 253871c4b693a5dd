"""Knowledge-distillation losses of EMTM (docs/method.md §5 and the decisions of §13)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS

from ..utils.decoding import masked_log_softmax

KD_MODES = ('standard', 'reference')


def standard_label_kd(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor,
                      temperature: float) -> torch.Tensor:
    """``KL(softmax(teacher / T) || softmax(student / T)) * T^2`` over valid clips, batch mean.

    The teacher side is detached and padded clips get probability 0 on both sides: after the
    division by ``T`` they are filled with the lowest value of the logits' dtype
    (:func:`~mmemtm.models.utils.masked_log_softmax`), which float16 and bfloat16 (mixed
    precision) hold as well as float32.

    Args:
        student: Student logits ``[B, L]``.
        teacher: Teacher scores used as logits ``[B, L]``.
        mask: ``[B, L]`` valid clips.
        temperature: Softmax temperature ``T``.
    """
    invalid = mask == 0
    log_p_s = masked_log_softmax(student / temperature, mask)
    log_p_t = masked_log_softmax(teacher.detach() / temperature, mask)
    kl = torch.where(invalid, 0.0, log_p_t.exp() * (log_p_t - log_p_s)).sum(-1)
    return kl.mean() * temperature**2


def reference_label_kd(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor,
                       temperature: float) -> torch.Tensor:
    """The EMTM reference code's ``kdfunc_KL``, batch mean.

    ``z_s = (s * m) / ||s * m||``, ``z_t = t / ||t||`` (norms over time), ``p = softmax(z / T)``
    over all ``L`` positions (padding included), then a second softmax ``q = softmax(p)``, and
    ``sum_t q_t log(q_t / q_s)``. Neither side is detached. The double softmax makes it nearly 0.

    Args:
        student: Student logits ``[B, L]``.
        teacher: Teacher scores ``[B, L]`` (zero on padding).
        mask: ``[B, L]`` valid clips.
        temperature: Softmax temperature ``T``.
    """
    z_s = F.normalize(student * mask, dim=-1)
    z_t = F.normalize(teacher, dim=-1)
    q_s = torch.softmax(torch.softmax(z_s / temperature, dim=-1), dim=-1)
    q_t = torch.softmax(torch.softmax(z_t / temperature, dim=-1), dim=-1)
    return (q_t * (q_t.log() - q_s.log())).sum(-1).mean()


def label_kd_loss(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor,
                  temperature: float, mode: str = 'standard') -> torch.Tensor:
    """Label distillation of one boundary (start or end); ``mode`` in :data:`KD_MODES`."""
    if mode == 'standard':
        return standard_label_kd(student, teacher, mask, temperature)
    if mode == 'reference':
        return reference_label_kd(student, teacher, mask, temperature)
    raise ValueError(f'KD mode must be one of {KD_MODES}, got {mode!r}')


def hidden_alignment_loss(student: torch.Tensor, teacher: torch.Tensor,
                          mask: torch.Tensor) -> torch.Tensor:
    """``0.5 * ||softmax_t(a / ||a||_t) - softmax_t(b / ||b||_t)||^2`` with the teacher detached.

    The optional hidden-state alignment of EMTM's v1 abstract (off by default). Softmax and norms
    run over the valid clips of each channel; the squared distance is summed over clips and
    channels and averaged over the batch.

    Args:
        student: Student hidden states ``[B, L, D]``.
        teacher: Co-trained teacher hidden states ``[B, L, D]``.
        mask: ``[B, L]`` valid clips.
    """
    def distribution(x: torch.Tensor) -> torch.Tensor:
        x = F.normalize(x * mask[..., None], dim=1)
        return torch.softmax(x.masked_fill(mask[..., None] == 0, torch.finfo(x.dtype).min),
                             dim=1)

    diff = distribution(student) - distribution(teacher.detach())
    return 0.5 * diff.pow(2).sum(dim=(1, 2)).mean()


@MODELS.register_module()
class LabelKDLoss(nn.Module):
    """``loss_weight`` times the label distillation of one boundary (:func:`label_kd_loss`).

    Args:
        temperature: Softmax temperature ``T`` (TACoS/ActivityNet 3, Charades-STA 1).
        mode: One of :data:`KD_MODES`: ``'standard'`` (masked KL x T^2, teacher detached) or
            ``'reference'`` (the reference code's double-softmax loss).
        loss_weight: Weight of the loss (EMTM's ``label_cof``).
    """

    def __init__(self, temperature: float = 3.0, mode: str = 'standard',
                 loss_weight: float = 0.1) -> None:
        super().__init__()
        if mode not in KD_MODES:
            raise ValueError(f'KD mode must be one of {KD_MODES}, got {mode!r}')
        self.temperature = temperature
        self.mode = mode
        self.loss_weight = loss_weight

    def forward(self, student: torch.Tensor, teacher: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        """Student logits ``[B, L]``, teacher logits ``[B, L]``, valid clips ``[B, L]`` -> ``[]``."""
        return self.loss_weight * label_kd_loss(student, teacher, mask, self.temperature,
                                                self.mode)


@MODELS.register_module()
class HiddenAlignmentLoss(nn.Module):
    """``loss_weight`` times :func:`hidden_alignment_loss` of student and teacher states
    ``[B, L, D]`` over the valid clips ``[B, L]``."""

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, student: torch.Tensor, teacher: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * hidden_alignment_loss(student, teacher, mask)
