"""Staged knowledge distillation for video classification (Wang & Tang, "The Staged Knowledge
Distillation in Video Classification: Harmonizing Student Progress by a Complementary Weakly
Supervised Framework", IEEE T-CSVT 34(8), 2024, arXiv 2307.05201), for MMAction2 recognizers.

Only the paper's abstract is available. It names four parts; each is a component here, and what
the abstract leaves open is a switch (our reading, not the paper's):

1. **Substage-based distillation**: student and teacher are cut into corresponding substages
   (``student_stages``/``teacher_stages``: submodule names, e.g. the ends of I3D's stages 3, 4, 5);
   each student substage is distilled from the teacher's through the correlation of their
   features (:class:`~mmemtm.models.losses.SubstageCorrelationLoss`: batch similarity or
   Pearson correlation of energy maps). With ``loss_kd`` the logits are one more, last substage.
2. **Progressive cascade training** (:class:`CascadeSchedule`): substages join the distillation
   one after another from the input side (or one at a time), so the student is not asked to
   match the whole teacher at once.
3. **Pseudo-label optimisation** (:class:`PseudoLabelBank`): weak (noisy) annotated labels are
   refined with the teacher's (or teacher and student's) predictions, and the student learns
   from the refined soft labels.
4. **Feature-distribution loss that balances the substage losses**
   (:class:`~mmemtm.models.losses.FeatureDistributionLoss`): the divergence of where student and
   teacher substages put their activation energy is a loss of its own, and its per-substage
   values weight the substage losses (``balance='distribution'``: weights
   ``n * softmax(d / tau)``, so the substages furthest from the teacher get most weight;
   ``'uniform'``: weight 1).
"""
from typing import Dict, List, Optional, Sequence

import torch
from mmaction.registry import MODELS
from torch.nn.parallel import DistributedDataParallel

from .base import FeatureTaps, RecognizerDistiller, current_epoch
from .staged_components import CascadeSchedule, PseudoLabelBank

BALANCE_MODES = ('distribution', 'uniform')


def sample_indices(data_samples: list) -> torch.Tensor:
    """``[B]`` ``sample_idx`` of the data samples (mmengine datasets set it; it must be among
    ``PackActionInputs``' ``meta_keys``)."""
    try:
        return torch.tensor([int(s.metainfo['sample_idx']) for s in data_samples])
    except KeyError:
        raise KeyError("StagedDistiller's pseudo labels need each sample's index: add "
                       "'sample_idx' to meta_keys of PackActionInputs in the train pipeline"
                       ) from None


def balance_weights(divergences: torch.Tensor, mode: str, temperature: float) -> torch.Tensor:
    """Weights ``[K]`` of ``K`` substage losses from their distribution divergences ``[K]``
    (detached): ``K * softmax(d / temperature)`` or ones."""
    if mode == 'uniform':
        return torch.ones_like(divergences)
    if mode == 'distribution':
        return len(divergences) * torch.softmax(divergences.detach() / temperature, dim=0)
    raise ValueError(f'balance mode must be one of {BALANCE_MODES}, got {mode!r}')


@MODELS.register_module()
class StagedDistiller(RecognizerDistiller):
    """Staged KD (see the module docstring).

    Args:
        student: Config of the student recognizer.
        teacher: Config of the teacher recognizer.
        teacher_ckpt: Checkpoint of the teacher.
        student_stages: Submodule names of the student whose outputs end its substages.
        teacher_stages: The teacher's corresponding submodule names.
        stage_epochs: First 0-based epoch of each substage (one more entry, for the logits,
            when ``loss_kd`` is given).
        cascade_mode: ``'cumulative'`` or ``'single'`` (:class:`CascadeSchedule`).
        loss_substage: Config of the substage loss.
        loss_distribution: Config of the feature-distribution loss (None: no such loss, and
            ``balance='distribution'`` is not possible).
        balance: ``'distribution'`` or ``'uniform'`` (see :func:`balance_weights`).
        balance_temperature: Temperature of the balancing softmax.
        loss_kd: Config of a logit distillation loss (the last substage), or None.
        pseudo_label: Keyword arguments of :class:`PseudoLabelBank` (``num_samples`` at least;
            ``num_classes`` is the student head's), or None to learn from the annotated labels.
        kwargs: ``data_preprocessor``, ``init_cfg``.
    """

    def __init__(self, student: dict, teacher: dict, teacher_ckpt: Optional[str] = None,
                 student_stages: Sequence[str] = ('backbone.mixed_3c', 'backbone.mixed_4f',
                                                  'backbone.mixed_5c'),
                 teacher_stages: Sequence[str] = ('backbone.mixed_3c', 'backbone.mixed_4f',
                                                  'backbone.mixed_5c'),
                 stage_epochs: Sequence[int] = (0, 1, 2, 3), cascade_mode: str = 'cumulative',
                 loss_substage: dict = dict(type='SubstageCorrelationLoss', mode='batch',
                                            loss_weight=1.0),
                 loss_distribution: Optional[dict] = dict(type='FeatureDistributionLoss',
                                                          loss_weight=1.0),
                 balance: str = 'distribution', balance_temperature: float = 1.0,
                 loss_kd: Optional[dict] = dict(type='LogitKDLoss', temperature=4.0,
                                                loss_weight=1.0),
                 pseudo_label: Optional[dict] = None, **kwargs) -> None:
        super().__init__(student, teacher, teacher_ckpt, **kwargs)
        if len(student_stages) != len(teacher_stages) or not student_stages:
            raise ValueError(f'StagedDistiller needs as many teacher_stages as student_stages '
                             f'(at least one), got {list(student_stages)} and '
                             f'{list(teacher_stages)}')
        expected = len(student_stages) + (loss_kd is not None)
        if len(stage_epochs) != expected:
            raise ValueError(f'stage_epochs needs {expected} entries (one per substage'
                             f'{" and one for the logits" if loss_kd else ""}), got '
                             f'{list(stage_epochs)}')
        if balance == 'distribution' and loss_distribution is None:
            raise ValueError("balance='distribution' needs loss_distribution")
        balance_weights(torch.zeros(1), balance, balance_temperature)  # validates the mode
        self.student_taps = FeatureTaps(self.student, student_stages, 'the student')
        self.teacher_taps = FeatureTaps(self.teacher, teacher_stages, 'the teacher')
        self.cascade = CascadeSchedule(stage_epochs, cascade_mode)
        self.num_substages = len(student_stages)
        self.loss_substage = MODELS.build(loss_substage)
        self.loss_distribution = MODELS.build(loss_distribution) if loss_distribution else None
        self.balance, self.balance_temperature = balance, balance_temperature
        self.loss_kd = MODELS.build(loss_kd) if loss_kd else None
        self.pseudo_labels = None
        if pseudo_label is not None:
            self.pseudo_labels = PseudoLabelBank(
                num_classes=self.student.cls_head.num_classes, **pseudo_label)
            # every process applies every update (PseudoLabelBank), so DDP need not broadcast it
            DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(
                self, self.pseudo_labels.buffer_names('pseudo_labels'))

    def label_losses(self, scores: torch.Tensor, teacher_scores: torch.Tensor,
                     data_samples: list, epoch: int) -> Dict[str, torch.Tensor]:
        """The head's loss on the annotated labels, or on the refined pseudo labels (which are
        then updated with this batch's predictions)."""
        head = self.student.cls_head
        if self.pseudo_labels is None:
            return head.loss_by_feat(scores, data_samples)
        indices = sample_indices(data_samples)
        labels = torch.stack([s.gt_label for s in data_samples]).view(-1)
        targets = self.pseudo_labels.targets(indices, labels).to(scores.device)
        losses = dict(loss_cls=head.loss_cls(scores, targets))
        self.pseudo_labels.update(indices, teacher_scores, scores, epoch)
        return losses

    def substage_losses(self, student_feats: Dict[str, torch.Tensor],
                        teacher_feats: Dict[str, torch.Tensor], active: List[int]
                        ) -> Dict[str, torch.Tensor]:
        """Balanced substage losses and the distribution loss of the ``active`` substages."""
        pairs = [(student_feats[self.student_taps.modules[k][0]],
                  teacher_feats[self.teacher_taps.modules[k][0]]) for k in active]
        substage = torch.stack([self.loss_substage(s, t) for s, t in pairs])
        losses = {}
        if self.loss_distribution is not None:
            divergence = torch.stack([self.loss_distribution(s, t) for s, t in pairs])
            losses['loss_distribution'] = divergence.sum()
        else:
            divergence = torch.zeros_like(substage)
        weights = balance_weights(divergence, self.balance, self.balance_temperature)
        losses['loss_substage'] = (weights * substage).sum()
        for k, w in zip(active, weights):
            losses[f'weight_stage{k}'] = w.detach()
        return losses

    def loss(self, inputs: torch.Tensor, data_samples: list) -> Dict[str, torch.Tensor]:
        """Label (or pseudo-label) loss, the active substages' losses and, once the cascade
        reaches the logits, ``loss_kd``."""
        epoch = current_epoch()
        active = self.cascade.active(epoch)
        with self.student_taps as student_feats:
            scores, _ = self.student_logits(inputs, data_samples)
        with self.teacher_taps as teacher_feats:
            teacher_scores = self.teacher_logits(inputs)
        losses = self.label_losses(scores, teacher_scores, data_samples, epoch)
        features = [k for k in active if k < self.num_substages]
        if features:
            losses.update(self.substage_losses(student_feats, teacher_feats, features))
        if self.loss_kd is not None and self.num_substages in active:
            losses['loss_kd'] = self.loss_kd(scores, teacher_scores)
        return losses
