"""Hinton et al.'s logit distillation for MMAction2 recognizers: the baseline of the video KD
methods."""
from typing import Dict, Optional

import torch
from mmaction.registry import MODELS

from .base import RecognizerDistiller


@MODELS.register_module()
class LogitDistiller(RecognizerDistiller):
    """Student trained on its head's own loss (cross-entropy on the labels) plus
    ``T^2 * KL(softmax(teacher / T) || softmax(student / T))`` (``loss_kd``).

    Hinton's ``(1 - alpha) * CE + alpha * KD`` is ``loss_cls.loss_weight = 1 - alpha`` of the
    student's head and ``loss_kd.loss_weight = alpha``.

    Args:
        student: Config of the student recognizer.
        teacher: Config of the teacher recognizer.
        teacher_ckpt: Checkpoint of the teacher.
        loss_kd: Config of the distillation loss (:class:`~mmemtm.models.losses.LogitKDLoss`).
        kwargs: ``data_preprocessor``, ``init_cfg`` of :class:`RecognizerDistiller`.
    """

    def __init__(self, student: dict, teacher: dict, teacher_ckpt: Optional[str] = None,
                 loss_kd: dict = dict(type='LogitKDLoss', temperature=4.0, loss_weight=1.0),
                 **kwargs) -> None:
        super().__init__(student, teacher, teacher_ckpt, **kwargs)
        self.loss_kd = MODELS.build(loss_kd)

    def loss(self, inputs: torch.Tensor, data_samples: list) -> Dict[str, torch.Tensor]:
        """Inputs ``[N, num_crops, C, T, H, W]`` (3-D) or ``[N, segs, C, H, W]`` (2-D) ->
        ``loss_cls`` (and the head's accuracies) and ``loss_kd``."""
        scores, _ = self.student_logits(inputs, data_samples)
        losses = self.student.cls_head.loss_by_feat(scores, data_samples)
        losses['loss_kd'] = self.loss_kd(scores, self.teacher_logits(inputs))
        return losses
