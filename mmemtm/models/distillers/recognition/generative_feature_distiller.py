"""GKD: generative model-based feature knowledge distillation (Wang, Zhao, Shi, Zhao, Yang,
AAAI 2024, arXiv 2312.08644), for MMAction2 recognizers.

Teacher and student are recognizers whose heads are :class:`~mmemtm.models.heads.GKDAttentionHead`
(channel x time attention ``A [N, C, T]`` on the last feature map ``F [N, C, T, H, W]``,
classification of the attention-weighted feature); the teacher's head holds the conditional VAE
(:class:`~mmemtm.models.heads.FeatureCVAE`, prior ``N(A, I)``) it was trained with. Training
alternates two passes:

1. **CVAE pass** (optimiser ``cvae``, Adam 1e-4): the student network is frozen (parameters and
   batch-norm statistics; its features and attention are computed without gradient). The
   student's CVAE is trained on the student's features with its own loss
   ``MSE(F_hat, F) + 0.1 KL`` (``loss_cvae``) plus the *generative distillation*
   ``0.01 * MSE(F_hat_student, F_hat_teacher)`` (``loss_generative``), where ``F_hat_teacher`` is
   the frozen teacher CVAE's reconstruction of the *student's* features and attention.
2. **Student pass** (optimiser ``student``, SGD 1e-3, momentum 0.9, weight decay 5e-4): the CVAE
   is frozen (no gradient reaches its parameters). The student is trained on its
   classification loss, the *attention distillation* ``0.1 * MSE(A_s, A_t)``
   (``loss_attention``) and the reconstruction term ``MSE(G(A_s), F_s)`` between the features the
   frozen CVAE generates from the student's attention (``z ~ N(A_s, I)``) and the student's
   features, ramped in linearly over the first 20 epochs with a final weight of 0.5
   (``loss_reconstruction``). Optionally (``loss_kd``, not part of the published method) the
   student pass also distils the frozen teacher's logits into the student's as the logit
   distiller does (:class:`~mmemtm.models.losses.LogitKDLoss`): the teacher terms above carry
   its features and attention, not what its classifier makes of them.

With ``train_cfg=dict(type='TwoPassEpochBasedTrainLoop')`` each epoch is a full CVAE pass over
the data and then a full student pass, as published (``train_phase`` is set by the loop); with
mmengine's plain ``EpochBasedTrainLoop`` every iteration makes one CVAE step and then one student
step on the same batch. The optimisers come from an ``OptimWrapperDict`` with the keys
``student`` and ``cvae`` (``constructor='PartsOptimWrapperConstructor'``). In multi-process
training, the runtime's ``DeviceAwareDistributedDataParallel`` (with
``find_unused_parameters=True``) runs this step and averages each pass's gradients.
"""
import contextlib
from typing import Dict, Iterator, Optional

import torch
from mmaction.registry import MODELS
from mmengine.optim import OptimWrapperDict

from .base import RecognizerDistiller, current_epoch, frozen

#: The two passes, in their order within an epoch (also the optimiser names).
GKD_PHASES = ('cvae', 'student')


def _check_attention_head(model: torch.nn.Module, owner: str, needs_cvae: bool) -> None:
    head = getattr(model, 'cls_head', None)
    if head is None or not hasattr(head, 'forward_with_attention'):
        raise TypeError(f'GenerativeFeatureDistiller: the {owner} needs cls_head of type '
                        f"'GKDAttentionHead', got {type(head).__name__}")
    if needs_cvae and getattr(head, 'cvae', None) is None:
        raise TypeError(f'GenerativeFeatureDistiller: the {owner}\'s GKDAttentionHead has no '
                        'cvae; train the teacher with cls_head.cvae=dict(type="FeatureCVAE", ...)')


@MODELS.register_module()
class GenerativeFeatureDistiller(RecognizerDistiller):
    """GKD (see the module docstring).

    Args:
        student: Config of the student recognizer (``cls_head`` a ``GKDAttentionHead`` without a
            CVAE: the student's CVAE is this distiller's ``cvae``, a training-only part).
        teacher: Config of the teacher recognizer (``cls_head`` a ``GKDAttentionHead`` with a
            CVAE).
        teacher_ckpt: Checkpoint of the teacher.
        cvae: Config of the student's :class:`~mmemtm.models.heads.FeatureCVAE`
            (``in_channels`` is filled in); it must fit the teacher's CVAE (same feature size).
        loss_cvae: The CVAE's own loss.
        loss_generative: Generative distillation between the two reconstructions.
        loss_attention: Attention distillation.
        loss_reconstruction: The ramped reconstruction term of the student pass.
        loss_kd: Config of a logit distillation loss of the student pass between the student's
            and the frozen teacher's logits (``LogitKDLoss``, as in
            :class:`~mmemtm.models.distillers.LogitDistiller`), or None (default: no such term,
            the published GKD).
        sample_latent: Draw ``z`` (reparameterised) rather than use its mean, in both CVAEs.
        kwargs: ``data_preprocessor``, ``init_cfg``.
    """

    def __init__(self, student: dict, teacher: dict, teacher_ckpt: Optional[str] = None,
                 cvae: dict = dict(type='FeatureCVAE', spatial_size=7),
                 loss_cvae: dict = dict(type='CVAELoss', kl_weight=0.1, loss_weight=1.0),
                 loss_generative: dict = dict(type='FeatureMSELoss', loss_weight=0.01),
                 loss_attention: dict = dict(type='FeatureMSELoss', loss_weight=0.1),
                 loss_reconstruction: dict = dict(type='RampedMSELoss', loss_weight=0.5,
                                                  ramp_epochs=20),
                 loss_kd: Optional[dict] = None, sample_latent: bool = True,
                 **kwargs) -> None:
        super().__init__(student, teacher, teacher_ckpt, **kwargs)
        _check_attention_head(self.student, 'student', needs_cvae=False)
        _check_attention_head(self.teacher, 'teacher', needs_cvae=True)
        channels = self.student.cls_head.in_channels
        if channels != self.teacher.cls_head.in_channels:
            raise ValueError(f'GenerativeFeatureDistiller: student features have {channels} '
                             f'channels, the teacher\'s {self.teacher.cls_head.in_channels}; the '
                             "teacher's CVAE reconstructs the student's features, so they must "
                             'match')
        self.cvae = MODELS.build(dict(cvae, in_channels=channels))
        self.loss_cvae = MODELS.build(loss_cvae)
        self.loss_generative = MODELS.build(loss_generative)
        self.loss_attention = MODELS.build(loss_attention)
        self.loss_reconstruction = MODELS.build(loss_reconstruction)
        self.loss_kd = MODELS.build(loss_kd) if loss_kd is not None else None
        self.sample_latent = sample_latent
        #: The pass of the current iteration (set by ``TwoPassEpochBasedTrainLoop``); None makes
        #: every ``train_step`` run both passes on its batch.
        self.train_phase: Optional[str] = None

    def student_features(self, inputs: torch.Tensor):
        """Backbone features ``[N, C, T, H, W]`` and attention ``[N, C, T]`` of the student."""
        feats, _ = self.student.extract_feat(inputs, stage='backbone')
        return feats, self.student.cls_head.attention(feats)

    def cvae_losses(self, inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Losses of the CVAE pass; only the student's CVAE gets gradients."""
        was_training = self.student.training
        self.student.eval()
        with torch.no_grad():
            feats, attention = self.student_features(inputs)
            _, _, recon_teacher = self.teacher.cls_head.cvae(feats, attention,
                                                             sample=self.sample_latent)
        self.student.train(was_training)
        mean, log_var, recon = self.cvae(feats, attention, sample=self.sample_latent)
        return dict(loss_cvae=self.loss_cvae(recon, feats, mean, log_var, attention),
                    loss_generative=self.loss_generative(recon, recon_teacher))

    def student_losses(self, inputs: torch.Tensor, data_samples: list
                       ) -> Dict[str, torch.Tensor]:
        """Losses of the student pass; the CVAE gets no gradient. With :attr:`loss_kd`, also
        ``loss_kd`` between the student's logits ``[N, num_classes]`` and the frozen teacher's
        (its head on its own features ``[N, C, T, H, W]`` and attention ``[N, C, T]``)."""
        feats, kwargs = self.student.extract_feat(inputs, data_samples=data_samples)
        scores, attention = self.student.cls_head.forward_with_attention(feats)
        losses = self.student.cls_head.loss_by_feat(scores, data_samples)
        with frozen(self.cvae):
            generated = self.cvae.generate(attention, feats.shape[3:], sample=self.sample_latent)
        losses['loss_reconstruction'] = self.loss_reconstruction(generated, feats,
                                                                 epoch=current_epoch())
        with torch.no_grad():
            teacher_feats, _ = self.teacher.extract_feat(inputs, stage='backbone')
            teacher_attention = self.teacher.cls_head.attention(teacher_feats)
            if self.loss_kd is not None:
                teacher_scores = self.teacher.cls_head.classify(teacher_feats, teacher_attention)
        losses['loss_attention'] = self.loss_attention(attention, teacher_attention)
        if self.loss_kd is not None:
            losses['loss_kd'] = self.loss_kd(scores, teacher_scores)
        return losses

    def loss(self, inputs: torch.Tensor, data_samples: list) -> Dict[str, torch.Tensor]:
        """The losses of ``train_phase`` (both passes' when it is None; for inspection only:
        training goes through :meth:`train_step`, which steps each pass's optimiser)."""
        phases = GKD_PHASES if self.train_phase is None else (self.train_phase,)
        losses = {}
        for phase in phases:
            losses.update(self.phase_losses(phase, inputs, data_samples))
        return losses

    def phase_losses(self, phase: str, inputs: torch.Tensor, data_samples: list
                     ) -> Dict[str, torch.Tensor]:
        if phase == 'cvae':
            return self.cvae_losses(inputs)
        if phase == 'student':
            return self.student_losses(inputs, data_samples)
        raise ValueError(f'GKD phase must be one of {GKD_PHASES}, got {phase!r}')

    def train_step(self, data, optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        """One step of ``train_phase`` (or of both passes, in order) with its own optimiser."""
        return self.wrapped_train_step(data, optim_wrapper, self)

    def wrapped_train_step(self, data, optim_wrapper: OptimWrapperDict, model: torch.nn.Module
                           ) -> Dict[str, torch.Tensor]:
        """:meth:`train_step` with each pass's losses computed by ``model(..., mode='loss')``.

        ``model`` is this distiller, or its data-parallel wrapper
        (:class:`~mmemtm.engine.DeviceAwareDistributedDataParallel` calls this method with
        itself), whose forward averages each pass's gradients over the processes. Each pass
        trains a different part (the CVAE pass leaves the student without gradient, the student
        pass the CVAE), so the wrapper needs ``find_unused_parameters=True``.
        """
        _check_optimisers(optim_wrapper)
        if not getattr(model, 'find_unused_parameters', True):
            raise ValueError('GenerativeFeatureDistiller trains the student and the CVAE in '
                             'separate passes: set model_wrapper_cfg=dict(type='
                             "'mmaction.DeviceAwareDistributedDataParallel', "
                             'find_unused_parameters=True)')
        phases = GKD_PHASES if self.train_phase is None else (self.train_phase,)
        log_vars = {}
        for phase in phases:
            wrapper = optim_wrapper[phase]
            with wrapper.optim_context(model), self._in_phase(phase):
                batch = self.data_preprocessor(data, True)
                losses = model(**batch, mode='loss')
            parsed, phase_vars = self.parse_losses(losses)
            wrapper.update_params(parsed)
            phase_vars[f'loss_{phase}_pass'] = phase_vars.pop('loss')
            log_vars.update(phase_vars)
        return log_vars

    @contextlib.contextmanager
    def _in_phase(self, phase: str) -> Iterator[None]:
        """Within the block, ``train_phase`` is ``phase`` (so ``loss`` computes that pass's
        losses only); restored afterwards."""
        previous, self.train_phase = self.train_phase, phase
        try:
            yield
        finally:
            self.train_phase = previous


def _check_optimisers(optim_wrapper) -> None:
    if not isinstance(optim_wrapper, OptimWrapperDict) or \
            any(p not in optim_wrapper for p in GKD_PHASES):
        raise TypeError('GenerativeFeatureDistiller needs one optimiser per pass: '
                        "optim_wrapper=dict(constructor='PartsOptimWrapperConstructor', "
                        'student=dict(...), cvae=dict(...))')
