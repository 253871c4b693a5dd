"""EMTM: a small student distilled from heterogeneous teachers and a co-trained isomorphic one."""
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import ModuleDict

from mmemtm.structures import GroundingDataSample
from mmemtm.text import WordVocabulary
from ..grounders.base_grounder import BaseGrounder
from ..utils import (build_part, decode_spans, refuse_moved_arguments, valid_lengths,
                     with_max_vlen)
from .knowledge_aggregation_unit import aggregate_curves

#: How aggregated teacher curves become logits (``curve_logits``).
CURVE_LOGITS = ('log', 'identity')


def curves_to_logits(curves: torch.Tensor, mode: str, eps: float = 1e-6) -> torch.Tensor:
    """Logits of teacher curves ``[..., L]``.

    ``'log'``: the curves are unnormalised probabilities (sigmoid boundary probabilities,
    L2-normalised map maxima, Gaussian proposal bumps), so ``softmax(log c / T)`` is the curve
    raised to ``1 / T`` and normalised. ``'identity'``: the curve values are used as logits (the
    reference; its curves lie in ``[0, 1]``, so their softmax is nearly uniform).
    """
    if mode == 'log':
        return torch.log(curves.clamp(min=0) + eps)
    if mode == 'identity':
        return curves
    raise ValueError(f'curve_logits must be one of {CURVE_LOGITS}, got {mode!r}')


def _prefixed(part: str, losses: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """``loss_start`` of ``part`` -> ``loss_<part>_start``."""
    return {key.replace('loss_', f'loss_{part}_', 1): value for key, value in losses.items()}


#: Arguments of the flat constructor (before the nested part configs) -> their place now.
EMTM_MOVED_ARGUMENTS = {
    'num_chars': 'encoder.num_chars',
    'char_dim': 'encoder.char_dim',
    'char_filters': 'encoder.char_filters',
    'char_widths': 'encoder.char_widths',
    'cotrained_attn_layers': 'cotrained.attention.num_layers (None: cotrained=None)',
    'shared_encoder': 'cotrained.shared_encoder',
    'cotrained_final_norm': 'cotrained.attention.final_norm',
    'match_weight': 'student_head.match_weight',
    'kau_weight': 'loss_kau.loss_weight',
    'kd_weight': 'loss_kd.loss_weight',
    'kd_temperature': 'loss_kd.temperature',
    'kd_mode': 'loss_kd.mode',
    'align_weight': "loss_align=dict(type='HiddenAlignmentLoss', loss_weight=...)",
}


@MODELS.register_module()
@refuse_moved_arguments(EMTM_MOVED_ARGUMENTS)
class EMTM(BaseGrounder):
    """Efficient grounding by multi-teacher distillation (docs/method.md §1, §3, §5, §13).

    Parts (B queries, L = ``max_vlen`` clips, N words, T offline teachers):

    * **shared encoder** (:class:`QueryVideoEncoder`): embedding, video projection, shared
      position table and convolution block -> ``Venc [B, L, D]``, ``Qenc [B, N, D]``;
    * **student** (:class:`SpanGroundingHead` on ``Venc, Qenc``): the only part run at
      inference (:meth:`predict_spans`);
    * **co-trained isomorphic teacher** (dual attention blocks + its own head) on the same
      ``Venc, Qenc`` (Shared-Encoder strategy; ``shared_encoder=False`` gives it its own
      encoder), trained with hard losses only;
    * **teacher aggregation** (:class:`KnowledgeAggregationUnit` or the plain average) of the
      ``T`` offline teachers' curves ``inputs['teacher_curves'] [B, T, 2, L]`` into one start and
      one end soft label, trained against the ground truth and distilled into the student. With
      ``inputs['aggregator_curves'] [B, T, 2, L]`` (e.g. the teachers' out-of-fold curves:
      ``LoadTeacherCurves(aggregator_files=...)``), the aggregator's weights are fitted on those
      and applied to ``teacher_curves`` for the distillation.

    Losses: student and co-trained teacher ``CE(start) + CE(end) + lambda_m (L_match +
    L_ortho)`` (their heads' losses); ``loss_kau`` (:class:`SoftBoundaryLoss`) of the
    aggregated soft labels against the ground truth; ``loss_kd`` (:class:`LabelKDLoss`) of the
    aggregated labels distilled into the student; optionally ``loss_align``
    (:class:`HiddenAlignmentLoss`) of the fused features ``F`` and ``F'`` of student and
    co-trained teacher. Each loss module carries its ``loss_weight``.

    The parts are built from nested configs. The facts they share are stated once, here, and
    filled into every part that takes them (:func:`build_part`): ``vocab``, ``max_vlen``,
    ``video_dim``, ``dim``, ``num_heads``, ``drop_rate``, and ``max_vlen`` of the data
    preprocessor; a part that sets one of them to another value is an error.

    Args:
        vocab: GloVe vocabulary path (the one ``TokenizeQuery`` uses) or vocabulary.
        max_vlen: Clip grid length ``L`` (videos are padded to it).
        video_dim: Clip feature dimension.
        dim: Model dimension ``D``.
        num_heads: Attention heads.
        drop_rate: Dropout rate.
        encoder: Config of the shared encoder (:class:`QueryVideoEncoder`: ``char_dim``...).
        student_head: Config of the student head (:class:`SpanGroundingHead`:
            ``match_weight``...).
        cotrained: Config of the co-trained isomorphic teacher, None for none:
            ``attention`` (config of its :class:`DualAttentionEncoder`: ``num_layers``,
            ``final_norm``), ``head`` (default: the student head's config) and
            ``shared_encoder`` (default True; False gives it an encoder of its own).
        num_teachers: Offline teachers ``T`` (0: no aggregation and no label KD).
        aggregator: Config of the teacher aggregator (``KnowledgeAggregationUnit`` or
            ``AverageTeacherAggregator``); ``num_teachers`` is filled in.
        loss_kau: Config of the aggregated labels' loss against the ground truth.
        loss_kd: Config of the label distillation loss (``temperature``, ``mode``,
            ``loss_weight``).
        loss_align: Config of the hidden-state alignment loss (None: off, as in the reference).
        curve_logits: How aggregated curves become logits (:func:`curves_to_logits`).
        detach_aggregator_inputs: Give the aggregator the shared encoder's outputs detached, so
            that ``loss_kau`` trains the aggregator only and never the encoder the student uses
            at inference (False: the reference, where the KAU's loss also trains the encoder).
        topk: Moments returned per query.
        nms_thr: IoU of the temporal NMS between returned moments.
        max_span_len: Longest predicted span in clips (None: unlimited).
        data_preprocessor: Config of the data preprocessor (``max_vlen`` is filled in).
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 vocab: Union[str, WordVocabulary],
                 max_vlen: int,
                 video_dim: int = 1024,
                 dim: int = 128,
                 num_heads: int = 8,
                 drop_rate: float = 0.2,
                 encoder: Optional[dict] = None,
                 student_head: Optional[dict] = None,
                 cotrained: Optional[dict] = None,
                 num_teachers: int = 3,
                 aggregator: Optional[dict] = None,
                 loss_kau: Optional[dict] = None,
                 loss_kd: Optional[dict] = None,
                 loss_align: Optional[dict] = None,
                 curve_logits: str = 'log',
                 detach_aggregator_inputs: bool = False,
                 topk: int = 5,
                 nms_thr: Optional[float] = 0.5,
                 max_span_len: Optional[int] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        self._check_max_vlen(max_vlen)
        super().__init__(data_preprocessor=with_max_vlen(data_preprocessor, max_vlen),
                         init_cfg=init_cfg)
        if num_teachers > 0 and aggregator is None:
            raise ValueError('EMTM with offline teachers needs an `aggregator` config '
                             '(KnowledgeAggregationUnit or AverageTeacherAggregator)')
        if loss_align is not None and cotrained is None:
            raise ValueError('hidden-state alignment needs the co-trained teacher')
        curves_to_logits(torch.ones(1), curve_logits)
        self.max_vlen = max_vlen
        self.num_teachers = num_teachers
        self.curve_logits = curve_logits
        self.detach_aggregator_inputs = detach_aggregator_inputs
        self.topk = topk
        self.nms_thr = nms_thr
        self.max_span_len = max_span_len
        shared = dict(vocab=vocab, max_vlen=max_vlen, video_dim=video_dim, dim=dim,
                      num_heads=num_heads, drop_rate=drop_rate)
        encoder = encoder or dict(type='QueryVideoEncoder')
        student_head = student_head or dict(type='SpanGroundingHead')
        self.encoder = build_part(encoder, shared, 'encoder')
        self.student = build_part(student_head, shared, 'student_head')
        # The training-only parts are built from a forked random stream, so that one seed gives
        # the student the same initialisation in every ablation (paired comparisons): its parts
        # are built first, and mmengine's init_weights visits them first.
        with torch.random.fork_rng(devices=[]):
            self.cotrained = self._build_cotrained(cotrained, shared, encoder, student_head)
            self.aggregator = None if num_teachers == 0 else build_part(
                aggregator, shared, 'aggregator', dict(num_teachers=num_teachers))
            self.loss_kau = MODELS.build(loss_kau or dict(type='SoftBoundaryLoss'))
            self.loss_kd = MODELS.build(loss_kd or dict(type='LabelKDLoss'))
            self.loss_align = None if loss_align is None else MODELS.build(loss_align)

    @staticmethod
    def _build_cotrained(cfg: Optional[dict], shared: dict, encoder: dict,
                         student_head: dict) -> Optional[ModuleDict]:
        """The co-trained isomorphic teacher (None without ``cfg``)."""
        if cfg is None:
            return None
        unknown = set(cfg) - {'attention', 'head', 'shared_encoder'}
        if unknown:
            raise ValueError(f'cotrained takes "attention", "head" and "shared_encoder", got '
                             f'{sorted(unknown)}')
        attention = cfg.get('attention') or dict(type='DualAttentionEncoder')
        # mmengine's ModuleDict, so that init_weights reaches the branch's blocks and head
        # (torch's ModuleDict is skipped and keeps PyTorch's default initialisation).
        branch = ModuleDict(dict(
            attention=build_part(attention, shared, 'cotrained.attention'),
            head=build_part(cfg.get('head') or student_head, shared, 'cotrained.head')))
        if not cfg.get('shared_encoder', True):
            branch['encoder'] = build_part(encoder, shared, 'cotrained.encoder')
        return branch

    @staticmethod
    def _check_max_vlen(max_vlen: int) -> None:
        if isinstance(max_vlen, bool) or not isinstance(max_vlen, int) or max_vlen < 1:
            raise ValueError('EMTM needs max_vlen, the length of its clip grid (the max_vlen of '
                             f'DownsampleClips), got {max_vlen!r}')

    def parameter_groups(self) -> Dict[str, List[nn.Module]]:
        """Modules of each part: the inference-time ``student`` (shared encoder + student head)
        and the training-only ``co-trained teacher`` and ``teacher aggregator``."""
        groups = {'student': [self.encoder, self.student]}
        if self.cotrained is not None:
            groups['co-trained teacher'] = [self.cotrained]
        if self.aggregator is not None:
            groups['teacher aggregator'] = [self.aggregator]
        return groups

    def student_outputs(self, inputs: Dict[str, torch.Tensor]
                        ) -> Tuple[Dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        """Student head outputs and the shared encoder's ``(Venc, Qenc)``."""
        video, query = self.encoder.encode_inputs(inputs)
        out = self.student(video, query, inputs['video_mask'], inputs['word_mask'])
        return out, video, query

    def cotrained_outputs(self, inputs: Dict[str, torch.Tensor], video: torch.Tensor,
                          query: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Co-trained teacher head outputs, from the shared ``(Venc, Qenc)`` or its encoder."""
        if 'encoder' in self.cotrained:
            video, query = self.cotrained['encoder'].encode_inputs(inputs)
        video_mask, word_mask = inputs['video_mask'], inputs['word_mask']
        video, query = self.cotrained['attention'](video, query, video_mask, word_mask)
        return self.cotrained['head'](video, query, video_mask, word_mask)

    def teacher_mixture(self, inputs: Dict[str, torch.Tensor], video: torch.Tensor,
                        query: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Aggregator weights ``[B, T, 2]`` and integrated start/end soft labels ``[B, 2, L]``
        of ``inputs['teacher_curves']`` (what is distilled)."""
        curves = inputs.get('teacher_curves')
        if curves is None:
            raise ValueError('EMTM with offline teachers needs their curves: add '
                             'LoadTeacherCurves to the train pipeline (or set num_teachers=0)')
        if curves.shape[1] != self.num_teachers:
            raise ValueError(f'the batch carries curves of {curves.shape[1]} teachers, the '
                             f'model expects num_teachers={self.num_teachers} (one teacher per '
                             'file of LoadTeacherCurves)')
        if self.detach_aggregator_inputs:
            video, query = video.detach(), query.detach()
        weights = self.aggregator(video, query, inputs['video_mask'], inputs['word_mask'])
        return weights, aggregate_curves(weights, curves)

    def loss(self, inputs: Dict[str, torch.Tensor],
             data_samples: Optional[List[GroundingDataSample]]) -> Dict[str, torch.Tensor]:
        targets, video_mask = inputs['targets'], inputs['video_mask']
        student, video, query = self.student_outputs(inputs)
        losses = _prefixed('student', self.student.loss(student, targets, video_mask))
        if self.cotrained is not None:
            teacher = self.cotrained_outputs(inputs, video, query)
            losses.update(_prefixed('cotrained',
                                    self.cotrained['head'].loss(teacher, targets, video_mask)))
            if self.loss_align is not None:
                losses['loss_align'] = sum(self.loss_align(student[k], teacher[k], video_mask)
                                           for k in ('fused', 'conditioned'))
        if self.aggregator is not None:
            weights, mixture = self.teacher_mixture(inputs, video, query)
            fitted = mixture
            if 'aggregator_curves' in inputs:
                fitted = aggregate_curves(weights, inputs['aggregator_curves'])
            losses.update(self.distillation_losses(student, mixture, fitted, targets,
                                                   video_mask))
        return losses

    def distillation_losses(self, student: Dict[str, torch.Tensor], mixture: torch.Tensor,
                            fitted: torch.Tensor, targets: Dict[str, torch.Tensor],
                            video_mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``loss_kd`` (``mixture`` ``[B, 2, L]`` distilled into the student) and ``loss_kau``
        (``fitted`` ``[B, 2, L]``, the same weights over the curves the aggregator is fitted on:
        ``aggregator_curves`` when the batch has them, else ``mixture``, against the ground
        truth)."""
        logits = curves_to_logits(mixture, self.curve_logits)
        fitted_logits = curves_to_logits(fitted, self.curve_logits)
        kau = sum(self.loss_kau(fitted_logits[:, i], targets[key], video_mask)
                  for i, key in enumerate(('start_label', 'end_label')))
        kd = sum(self.loss_kd(student[key], logits[:, i], video_mask)
                 for i, key in enumerate(('start_logits', 'end_logits')))
        return dict(loss_kau=kau, loss_kd=kd)

    def predict_spans(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Ranked spans from the student alone (the co-trained teacher and the aggregator are
        not run)."""
        out, _, _ = self.student_outputs(inputs)
        return self.decode(out, inputs['video_mask'])

    def predict_one_video(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Student spans of ``Q`` queries about one video, encoding the video once (inputs as
        :meth:`BaseGrounder.predict_one_video`)."""
        queries = inputs['words'].shape[0]
        video_mask = inputs['video_mask'].expand(queries, -1)
        video = self.encoder.encode_video(inputs['video'], inputs['video_mask'])
        query = self.encoder.encode_query(inputs['words'], inputs['chars'], inputs['word_mask'])
        out = self.student(video.expand(queries, -1, -1), query, video_mask, inputs['word_mask'])
        return self.decode(out, video_mask)

    def decode(self, out: Dict[str, torch.Tensor],
               video_mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Ranked spans and boundary probabilities of the student head's ``out``."""
        return decode_spans(out['start_logits'], out['end_logits'], video_mask, self.topk,
                            self.nms_thr, self.max_span_len)

    @torch.no_grad()
    def explain(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """What the model distils for a training batch (with ``teacher_curves``), for plots.

        Returns:
            dict: ``weights`` ``[B, T, 2]`` aggregator weights, ``mixture`` ``[B, 2, L]`` the
            integrated start/end soft labels as distributions over the valid clips (softmax of
            their logits), and the student's :meth:`decode` outputs (``spans``, ``scores``,
            ``start_prob`` / ``end_prob`` ``[B, L]``).
        """
        student, video, query = self.student_outputs(inputs)
        weights, mixture = self.teacher_mixture(inputs, video, query)
        mask = inputs['video_mask'][:, None]
        logits = curves_to_logits(mixture, self.curve_logits)
        mixture = torch.softmax(logits.masked_fill(mask == 0, torch.finfo(logits.dtype).min),
                                dim=-1)
        return dict(self.decode(student, inputs['video_mask']), weights=weights, mixture=mixture)

    @torch.no_grad()
    def teacher_outputs(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """:meth:`BaseGrounder.teacher_outputs` of kind ``'span'`` (the student's logits, e.g.
        for self-distillation)."""
        out, _, _ = self.student_outputs(inputs)
        return dict(kind='span', start_logits=out['start_logits'],
                    end_logits=out['end_logits'], valid_len=valid_lengths(inputs['video_mask']))
