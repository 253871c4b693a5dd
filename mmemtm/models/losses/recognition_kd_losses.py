"""Losses of the recognition distillers (Hinton KD, GKD, staged KD), registered in
``mmaction.registry.MODELS``. Each module multiplies its value by ``loss_weight``."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS

from .distillation_losses import standard_label_kd

CORRELATION_MODES = ('batch', 'pearson')


def gaussian_kl(mean: torch.Tensor, log_var: torch.Tensor,
                prior_mean: torch.Tensor) -> torch.Tensor:
    """Element-wise ``KL(N(mean, exp(log_var)) || N(prior_mean, 1))``, any equal shapes.

    ``0.5 * (exp(log_var) + (mean - prior_mean)^2 - 1 - log_var)``.
    """
    return 0.5 * (log_var.exp() + (mean - prior_mean).pow(2) - 1.0 - log_var)


def linear_ramp(epoch: int, ramp_epochs: int) -> float:
    """``min((epoch + 1) / ramp_epochs, 1)`` for the 0-based ``epoch``: ``1 / ramp_epochs`` in
    the first epoch, 1 from epoch ``ramp_epochs - 1`` on (1 at once when ``ramp_epochs <= 0``)."""
    if ramp_epochs <= 0:
        return 1.0
    return min((epoch + 1) / ramp_epochs, 1.0)


@MODELS.register_module()
class LogitKDLoss(nn.Module):
    """Hinton et al.'s distillation loss ``T^2 * KL(softmax(t / T) || softmax(s / T))``, batch
    mean; the teacher side is detached.

    Args:
        temperature: Softmax temperature ``T``.
        loss_weight: Multiplier of the loss.
    """

    def __init__(self, temperature: float = 4.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be positive, got {temperature}')
        self.temperature = temperature
        self.loss_weight = loss_weight

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """Student and teacher logits ``[N, num_classes]`` -> scalar (every class valid in
        :func:`standard_label_kd`, the same distillation EMTM applies to boundary logits)."""
        every_class = torch.ones_like(student)
        return self.loss_weight * standard_label_kd(student, teacher, every_class,
                                                    self.temperature)


@MODELS.register_module()
class FeatureMSELoss(nn.Module):
    """``loss_weight * mean((pred - target)^2)``; ``target`` is detached when ``detach_target``.

    Args:
        loss_weight: Multiplier of the loss.
        detach_target: Stop gradients through the target.
    """

    def __init__(self, loss_weight: float = 1.0, detach_target: bool = True) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.detach_target = detach_target

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Tensors of one shape -> scalar."""
        if pred.shape != target.shape:
            raise ValueError(f'FeatureMSELoss needs equal shapes, got {tuple(pred.shape)} and '
                             f'{tuple(target.shape)}')
        if self.detach_target:
            target = target.detach()
        return self.loss_weight * F.mse_loss(pred, target)


@MODELS.register_module()
class RampedMSELoss(FeatureMSELoss):
    """:class:`FeatureMSELoss` ramped in linearly over the first ``ramp_epochs`` epochs
    (:func:`linear_ramp`): GKD's reconstruction term (weight 0.5, 20 epochs).

    Args:
        loss_weight: Multiplier once the ramp is complete.
        ramp_epochs: Epochs until the full weight.
        detach_target: Stop gradients through the target.
    """

    def __init__(self, loss_weight: float = 0.5, ramp_epochs: int = 20,
                 detach_target: bool = False) -> None:
        super().__init__(loss_weight, detach_target)
        self.ramp_epochs = ramp_epochs

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                epoch: int = 0) -> torch.Tensor:
        """Tensors of one shape and the 0-based epoch -> scalar."""
        return linear_ramp(epoch, self.ramp_epochs) * super().forward(pred, target)


@MODELS.register_module()
class CVAELoss(nn.Module):
    """Loss of a conditional VAE whose prior is ``N(prior_mean, I)``:
    ``loss_weight * (MSE(recon, target) + kl_weight * mean KL)``, both means over elements.

    Args:
        kl_weight: Weight of the KL term (GKD: 0.1).
        loss_weight: Multiplier of the loss.
    """

    def __init__(self, kl_weight: float = 0.1, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.kl_weight = kl_weight
        self.loss_weight = loss_weight

    def forward(self, recon: torch.Tensor, target: torch.Tensor, mean: torch.Tensor,
                log_var: torch.Tensor, prior_mean: torch.Tensor) -> torch.Tensor:
        """``recon``/``target`` ``[N, C, T, H, W]``; ``mean``/``log_var``/``prior_mean``
        ``[N, C, T]`` -> scalar."""
        mse = F.mse_loss(recon, target)
        kl = gaussian_kl(mean, log_var, prior_mean).mean()
        return self.loss_weight * (mse + self.kl_weight * kl)


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1)


def batch_similarity(features: torch.Tensor) -> torch.Tensor:
    """Row-normalised batch similarity ``[N, N]`` of features ``[N, ...]`` (Tung & Mori's
    similarity-preserving KD): independent of the feature size, so any two networks compare."""
    flat = _flat(features)
    return F.normalize(flat @ flat.t(), dim=1)


def energy_map(features: torch.Tensor, size: Optional[tuple] = None) -> torch.Tensor:
    """Channel mean of squared activations ``[N, T*H*W]`` of ``[N, C, T, H, W]`` (or
    ``[N, C, H, W]``) features, average-pooled to ``size`` first when given."""
    if size is not None and tuple(features.shape[2:]) != tuple(size):
        features = F.adaptive_avg_pool3d(features, size) if features.dim() == 5 \
            else F.adaptive_avg_pool2d(features, size)
    return _flat(features.pow(2).mean(dim=1))


@MODELS.register_module()
class SubstageCorrelationLoss(nn.Module):
    """Distils one substage of the student from the teacher's corresponding substage through the
    correlation of their features (staged KD's substage-based distillation; the form of the
    correlation is our reading of the abstract, chosen by ``mode``):

    * ``'batch'``: mean squared difference of the ``[N, N]`` batch similarity matrices
      (:func:`batch_similarity`) -- which samples the teacher finds alike;
    * ``'pearson'``: ``1 - Pearson correlation`` of the spatio-temporal energy maps
      (:func:`energy_map`, the student's pooled to the teacher's size) -- where the teacher's
      substage responds.

    Both compare networks of different widths without an extra layer.

    Args:
        mode: One of :data:`CORRELATION_MODES`.
        loss_weight: Multiplier of the loss.
    """

    def __init__(self, mode: str = 'batch', loss_weight: float = 1.0) -> None:
        super().__init__()
        if mode not in CORRELATION_MODES:
            raise ValueError(f'mode must be one of {CORRELATION_MODES}, got {mode!r}')
        self.mode = mode
        self.loss_weight = loss_weight

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """Substage features ``[N, C_s, ...]`` and ``[N, C_t, ...]`` -> scalar."""
        teacher = teacher.detach()
        if self.mode == 'batch':
            diff = batch_similarity(student) - batch_similarity(teacher)
            return self.loss_weight * diff.pow(2).mean()
        s = energy_map(student, teacher.shape[2:])
        t = energy_map(teacher)
        s = s - s.mean(dim=1, keepdim=True)
        t = t - t.mean(dim=1, keepdim=True)
        corr = F.cosine_similarity(s, t, dim=1, eps=1e-8)
        return self.loss_weight * (1.0 - corr).mean()


@MODELS.register_module()
class FeatureDistributionLoss(nn.Module):
    """``KL(p_t || p_s)`` of where two substages put their activation energy:
    ``p = softmax(energy_map / temperature)`` over the ``T*H*W`` positions (the student's map
    pooled to the teacher's size), batch mean. Staged KD's loss "based on feature distributions";
    :class:`~mmemtm.models.distillers.recognition.StagedDistiller` also uses its per-substage
    values to balance the substage losses.

    Args:
        temperature: Softmax temperature of the energy maps (after each map is divided by its
            mean, so the temperature is scale free).
        loss_weight: Multiplier of the loss.
    """

    def __init__(self, temperature: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.temperature = temperature
        self.loss_weight = loss_weight

    def distribution(self, features: torch.Tensor, size: Optional[tuple] = None
                     ) -> torch.Tensor:
        """Log-probabilities ``[N, P]`` of the energy distribution of ``features``."""
        energy = energy_map(features, size)
        energy = energy / energy.mean(dim=1, keepdim=True).clamp_min(1e-12)
        return F.log_softmax(energy / self.temperature, dim=1)

    def forward(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """Substage features ``[N, C_s, ...]`` and ``[N, C_t, ...]`` -> scalar."""
        log_p_t = self.distribution(teacher.detach())
        log_p_s = self.distribution(student, teacher.shape[2:])
        kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1).mean()
        return self.loss_weight * kl
