"""EMTM: a small student distilled from heterogeneous teachers and a co-trained isomorphic one."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import ModuleDict

from mmemtm.structures import GroundingDataSample
from mmemtm.text import WordVocabulary
from ..encoders.char_cnn import DEFAULT_NUM_CHARS
from ..encoders.dual_attention_encoder import DualAttentionEncoder
from ..encoders.query_video_encoder import QueryVideoEncoder
from ..grounders.base_grounder import BaseGrounder
from ..heads.span_grounding_head import SpanGroundingHead
from ..losses import hidden_alignment_loss, label_kd_loss, masked_soft_cross_entropy
from ..utils import NEG_INF, decode_spans, valid_lengths
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


@MODELS.register_module()
class EMTM(BaseGrounder):
    """Efficient grounding by multi-teacher distillation (method doc sections 1, 3, 5, 13).

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
      one end soft label, trained against the ground truth and distilled into the student.

    Losses: student and co-trained teacher ``CE(start) + CE(end) + lambda_m (L_match +
    L_ortho)``; ``kau_weight * [CE(S_hat) + CE(E_hat)]``; ``kd_weight * [KD(s, S_hat) +
    KD(e, E_hat)]``; optionally ``align_weight`` times the hidden-state alignment of the fused
    features ``F`` and ``F'`` of student and co-trained teacher.

    Args:
        vocab: GloVe vocabulary path (the one ``TokenizeQuery`` uses) or vocabulary.
        max_vlen: Clip grid length ``L`` (videos are padded to it).
        video_dim: Clip feature dimension.
        dim: Model dimension ``D``.
        num_heads: Attention heads.
        num_chars: Character vocabulary size.
        char_dim: Character embedding size.
        char_filters: Output channels of the character convolutions.
        char_widths: Widths of the character convolutions.
        drop_rate: Dropout rate.
        num_teachers: Offline teachers ``T`` (0: no aggregation and no label KD).
        aggregator: Config of the teacher aggregator (``KnowledgeAggregationUnit`` with ``dim``
            and ``max_vlen``, or ``AverageTeacherAggregator``); ``num_teachers`` is filled in.
        cotrained_attn_layers: Dual attention blocks of the co-trained teacher (None: no
            co-trained teacher).
        shared_encoder: The co-trained teacher uses the student's encoder (EMTM) or its own.
        cotrained_final_norm: LayerNorm after the co-trained teacher's last dual attention block
            (default; False: the reference, see :class:`DualAttentionEncoder`).
        match_weight: ``lambda_m`` of the matching losses.
        kau_weight: Weight of the aggregated soft labels' loss against the ground truth.
        kd_weight: ``label_cof``, weight of the label distillation.
        kd_temperature: Distillation temperature (TACoS/ActivityNet 3, Charades-STA 1).
        kd_mode: ``'standard'`` (masked KL x T^2, teacher detached) or ``'reference'``.
        curve_logits: How aggregated curves become logits (:func:`curves_to_logits`).
        align_weight: Weight of the hidden-state alignment (0: off, as in the reference).
        topk: Moments returned per query.
        nms_thr: IoU of the temporal NMS between returned moments.
        max_span_len: Longest predicted span in clips (None: unlimited).
        data_preprocessor: Config of the data preprocessor.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 vocab: Union[str, WordVocabulary],
                 max_vlen: int,
                 video_dim: int = 1024,
                 dim: int = 128,
                 num_heads: int = 8,
                 num_chars: int = DEFAULT_NUM_CHARS,
                 char_dim: int = 50,
                 char_filters: Sequence[int] = (10, 20, 30, 40),
                 char_widths: Sequence[int] = (1, 2, 3, 4),
                 drop_rate: float = 0.2,
                 num_teachers: int = 3,
                 aggregator: Optional[dict] = None,
                 cotrained_attn_layers: Optional[int] = 2,
                 shared_encoder: bool = True,
                 cotrained_final_norm: bool = True,
                 match_weight: float = 1.0,
                 kau_weight: float = 1.0,
                 kd_weight: float = 0.1,
                 kd_temperature: float = 3.0,
                 kd_mode: str = 'standard',
                 curve_logits: str = 'log',
                 align_weight: float = 0.0,
                 topk: int = 5,
                 nms_thr: Optional[float] = 0.5,
                 max_span_len: Optional[int] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self._check_clip_grid(max_vlen, aggregator if num_teachers > 0 else None)
        if num_teachers > 0 and aggregator is None:
            raise ValueError('EMTM with offline teachers needs an `aggregator` config '
                             '(KnowledgeAggregationUnit or AverageTeacherAggregator)')
        if align_weight > 0 and cotrained_attn_layers is None:
            raise ValueError('hidden-state alignment needs the co-trained teacher')
        curves_to_logits(torch.ones(1), curve_logits)
        self.max_vlen = max_vlen
        self.num_teachers = num_teachers
        self.kau_weight = kau_weight
        self.kd_weight = kd_weight
        self.kd_temperature = kd_temperature
        self.kd_mode = kd_mode
        self.curve_logits = curve_logits
        self.align_weight = align_weight
        self.topk = topk
        self.nms_thr = nms_thr
        self.max_span_len = max_span_len

        def encoder() -> QueryVideoEncoder:
            return QueryVideoEncoder(vocab, video_dim, dim, max_vlen, num_chars, char_dim,
                                     char_filters, char_widths, drop_rate=drop_rate)

        def head() -> SpanGroundingHead:
            return SpanGroundingHead(dim, max_vlen, num_heads, drop_rate, match_weight)

        self.encoder = encoder()
        self.student = head()
        # The training-only parts are built from a forked random stream, so that one seed gives
        # the student the same initialisation in every ablation (paired comparisons): its parts
        # are built first, and mmengine's init_weights visits them first.
        with torch.random.fork_rng(devices=[]):
            self.cotrained = self._build_cotrained(
                cotrained_attn_layers, shared_encoder, encoder, head, dict(dim=dim, num_heads=num_heads, drop_rate=drop_rate,
                                           final_norm=cotrained_final_norm))
            self.aggregator = None if num_teachers == 0 else MODELS.build(
                aggregator, default_args=dict(num_teachers=num_teachers))

    @staticmethod
    def _build_cotrained(layers: Optional[int], shared_encoder: bool, encoder, head,
                         attention_args: dict) -> Optional[ModuleDict]:
        """The co-trained isomorphic teacher (None without ``layers``)."""
        if layers is None:
            return None
        # mmengine's ModuleDict, so that init_weights reaches the branch's blocks and head
        # (torch's ModuleDict is skipped and keeps PyTorch's default initialisation).
        branch = ModuleDict(dict(attention=DualAttentionEncoder(num_layers=layers,
                                                                **attention_args),
                                 head=head()))
        if not shared_encoder:
            branch['encoder'] = encoder()
        return branch

    def _check_clip_grid(self, max_vlen: int, aggregator: Optional[dict]) -> None:
        """``max_vlen`` is set, and the data preprocessor and the aggregator use the same."""
        if isinstance(max_vlen, bool) or not isinstance(max_vlen, int) or max_vlen < 1:
            raise ValueError('EMTM needs max_vlen, the length of its clip grid (the max_vlen of '
                             f'DownsampleClips), got {max_vlen!r}')
        padded_to = getattr(self.data_preprocessor, 'max_vlen', None)
        if padded_to is not None and padded_to != max_vlen:
            raise ValueError(f'data_preprocessor.max_vlen={padded_to} differs from the model\'s '
                             f'max_vlen={max_vlen}: videos must be padded to the model\'s grid')
        if aggregator is not None and aggregator.get('max_vlen', max_vlen) != max_vlen:
            raise ValueError(f'aggregator.max_vlen={aggregator["max_vlen"]!r} differs from the '
                             f'model\'s max_vlen={max_vlen}')

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
        """Aggregator weights ``[B, T, 2]`` and integrated start/end soft labels ``[B, 2, L]``."""
        curves = inputs.get('teacher_curves')
        if curves is None:
            raise ValueError('EMTM with offline teachers needs their curves: add '
                             'LoadTeacherCurves to the train pipeline (or set num_teachers=0)')
        if curves.shape[1] != self.num_teachers:
            raise ValueError(f'the batch carries curves of {curves.shape[1]} teachers, the '
                             f'model expects num_teachers={self.num_teachers} (one teacher per '
                             'file of LoadTeacherCurves)')
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
            if self.align_weight > 0:
                losses['loss_align'] = self.align_weight * sum(
                    hidden_alignment_loss(student[k], teacher[k], video_mask)
                    for k in ('fused', 'conditioned'))
        if self.aggregator is not None:
            _, mixture = self.teacher_mixture(inputs, video, query)
            losses.update(self.distillation_losses(student, mixture, targets, video_mask))
        return losses

    def distillation_losses(self, student: Dict[str, torch.Tensor], mixture: torch.Tensor,
                            targets: Dict[str, torch.Tensor], video_mask: torch.Tensor
                            ) -> Dict[str, torch.Tensor]:
        """``loss_kau`` (mixture vs ground truth) and ``loss_kd`` (mixture -> student)."""
        logits = curves_to_logits(mixture, self.curve_logits)
        kau = sum(masked_soft_cross_entropy(logits[:, i], targets[key], video_mask)
                  for i, key in enumerate(('start_label', 'end_label')))
        kd = sum(label_kd_loss(student[key], logits[:, i], video_mask, self.kd_temperature,
                               self.kd_mode)
                 for i, key in enumerate(('start_logits', 'end_logits')))
        return dict(loss_kau=self.kau_weight * kau, loss_kd=self.kd_weight * kd)

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
        mixture = torch.softmax(logits.masked_fill(mask == 0, NEG_INF), dim=-1)
        return dict(self.decode(student, inputs['video_mask']), weights=weights, mixture=mixture)

    @torch.no_grad()
    def teacher_outputs(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Teacher-output contract (``kind='span'``) of the student, e.g. for self-distillation."""
        out, _, _ = self.student_outputs(inputs)
        return dict(kind='span', start_logits=out['start_logits'],
                    end_logits=out['end_logits'], valid_len=valid_lengths(inputs['video_mask']))
