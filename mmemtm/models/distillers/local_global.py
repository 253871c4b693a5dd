"""Local-global distillation of a multi-modal weak teacher into a single-modal weak student: our
reading of Bao et al., "Local-Global Multi-Modal Distillation for Weakly-Supervised Temporal
Video Grounding" (AAAI 2024), of which only the abstract is public
(``docs/weakly_supervised.md``)."""
from typing import Dict, List, Optional, Sequence

import torch
from mmaction.registry import MODELS
from mmengine.runner.checkpoint import load_checkpoint

from mmemtm.structures import GroundingDataSample
from ..grounders.weak_gaussian_grounder import WeakGaussianGrounder
from ..utils import build_part


@MODELS.register_module()
class LocalGlobalDistiller(WeakGaussianGrounder):
    """A single-modal :class:`WeakGaussianGrounder` (the student: this model's own weights)
    trained with its weak losses plus the knowledge of a frozen multi-modal teacher.

    Training batches hold the teacher's streams (``teacher_streams``, concatenated); the student
    reads only its own stream (``input_streams``, one name of ``teacher_streams``: its chunk of
    the features), the teacher reads all. Validation, test, inference and ONNX export see the
    student's stream alone (the test pipeline loads only it) and run the student alone.

    Losses: the student's ``loss_rec`` and ``loss_ivc``; ``loss_local`` (boundary level,
    ``BoundaryDistillLoss``: the teacher's fused top proposals' centres, widths and ranking);
    ``loss_global`` (activation-map level, ``MapDivergenceLoss``: the student's activation map
    against the teacher's). Either may be None.

    The teacher (built from ``teacher``, e.g. a ``CrossModalMutualTeacher``) is frozen: no
    gradients, always in eval mode; its weights come from ``teacher_checkpoint`` when training
    starts (:meth:`init_weights`) and are saved with the student's, so testing a checkpoint
    needs no teacher file.

    Args:
        teacher: Config of the teacher (a grounder with ``knowledge(inputs)``).
        teacher_checkpoint: The trained teacher's checkpoint (needed to train).
        teacher_streams: Streams of the training batches, in the order of the features.
        loss_local: Config of the boundary-level loss, or None.
        loss_global: Config of the activation-map loss, or None.
        **kwargs: The student's arguments (:class:`WeakGaussianGrounder`), including ``vocab``
            (also filled into the teacher) and ``input_streams`` (one stream).
    """

    def __init__(self, teacher: dict, teacher_checkpoint: Optional[str] = None,
                 teacher_streams: Sequence[str] = ('appearance', 'motion'),
                 loss_local: Optional[dict] = dict(type='BoundaryDistillLoss', loss_weight=1.0),
                 loss_global: Optional[dict] = dict(type='MapDivergenceLoss', loss_weight=1.0),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if len(self.input_streams) != 1 or self.input_streams[0] not in teacher_streams:
            raise ValueError(f'the student reads one of the teacher streams '
                             f'{list(teacher_streams)}, got input_streams '
                             f'{list(self.input_streams)}')
        self.teacher_streams = tuple(teacher_streams)
        self.teacher = build_part(dict(teacher, input_streams=self.teacher_streams),
                                  dict(vocab=kwargs.get('vocab')), 'teacher')
        self.teacher.requires_grad_(False)
        self.teacher_checkpoint = teacher_checkpoint
        self.loss_local = None if loss_local is None else build_part(loss_local, {},
                                                                     'loss_local')
        self.loss_global = None if loss_global is None else build_part(loss_global, {},
                                                                       'loss_global')

    def init_weights(self) -> None:
        """Initialise the student, then load the teacher's trained weights."""
        super().init_weights()
        if not self.teacher_checkpoint:
            raise ValueError('LocalGlobalDistiller needs teacher_checkpoint (the trained '
                             "teacher's .pth) to train")
        load_checkpoint(self.teacher, self.teacher_checkpoint, map_location='cpu', strict=True,
                        logger='current')

    def train(self, mode: bool = True) -> 'LocalGlobalDistiller':
        """Set the student's mode; the teacher stays in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self

    def training_streams(self) -> tuple:
        return (self.teacher_streams, )

    def student_inputs(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """The training batch as the student sees it: its stream's chunk ``[B, L, D]`` of the
        teacher streams' features ``[B, L, n D]`` (each stream ``D = video_dim`` wide)."""
        expected = self.video_dim * len(self.teacher_streams)
        if inputs['video'].shape[-1] != expected:
            raise ValueError(f'a training batch of {type(self).__name__} holds the streams '
                             f'{list(self.teacher_streams)} ({expected} features), got '
                             f'{inputs["video"].shape[-1]}')
        index = self.teacher_streams.index(self.input_streams[0])
        chunk = inputs['video'][..., index * self.video_dim:(index + 1) * self.video_dim]
        return dict(inputs, video=chunk)

    def loss(self, inputs: Dict[str, torch.Tensor],
             data_samples: Optional[List[GroundingDataSample]]) -> Dict[str, torch.Tensor]:
        """The student's weak losses and the local and global distillation terms."""
        student_inputs = self.student_inputs(inputs)
        out = self.outputs(student_inputs)
        losses = self.weak_losses(out)
        if self.loss_local is None and self.loss_global is None:
            return losses
        known = self.teacher.knowledge(inputs)
        mask = inputs['video_mask']
        if self.loss_local is not None:
            log_scores = torch.log_softmax(-out.rec_pos / self.score_temperature, dim=1) \
                if self.rank_by == 'reconstruction' else None
            losses['loss_local'] = self.loss_local(out.centres, out.widths, log_scores,
                                                   known['moments'], known['scores'])
        if self.loss_global is not None:
            losses['loss_global'] = self.loss_global(self.activation_map(out, mask),
                                                     known['activation'], mask)
        return losses
