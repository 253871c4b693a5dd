"""Anchor-based proposal teacher: SCDM (Yuan, Ma, Wang, Liu, Zhu, "Semantic Conditioned Dynamic
Modulation for Temporal Sentence Grounding in Videos", NeurIPS 2019).

Clip features fused with the sentence go through a hierarchy of strided temporal convolutions,
each followed by semantic conditioned dynamic modulation. Every position of every level carries
multi-scale anchors; for each anchor the model predicts an overlap score (its IoU with the ground
truth) and centre/width offsets that refine its boundaries. Ranked proposals are the refined
anchors ordered by overlap score, after temporal NMS.

Difference from the paper: SCDM also trains a separate positive/negative matching classifier;
here the overlap score alone ranks the anchors (it is the IoU the matching labels are derived
from).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS

from mmemtm.structures import GroundingDataSample, temporal_iou
from ..grounders.base_grounder import BaseGrounder, TeacherOutputs
from ..layers.scdm_layers import SemanticConditionedModulation
from ..utils import build_part, refuse_moved_arguments
from ..utils.decoding import topk_moments
from .anchors import anchor_moments, decode_offsets, encode_offsets, multiscale_anchors
from .clip_grid import fractions_to_clip_spans, pool_clips_to_grid
from .targets import annotated_moments

#: Arguments of the flat constructor (before the nested part configs) -> their place now.
SCDM_MOVED_ARGUMENTS = {
    'text_layers': 'sentence_encoder.num_layers',
    'text_rnn': 'sentence_encoder.rnn_type',
    'pos_iou': 'loss_reg.pos_iou',
    'reg_weight': 'loss_reg.loss_weight',
}


def pyramid_lengths(num_cells: int, num_levels: int) -> List[int]:
    """Positions of each level of a stride-2 pyramid over ``num_cells`` cells."""
    if num_levels < 1 or num_cells % 2**num_levels:
        raise ValueError(f'num_cells ({num_cells}) must be divisible by 2**num_levels '
                         f'(num_levels={num_levels})')
    return [num_cells // 2**(level + 1) for level in range(num_levels)]


@MODELS.register_module()
@refuse_moved_arguments(SCDM_MOVED_ARGUMENTS)
class SCDMGrounder(BaseGrounder):
    """SCDM: multi-scale anchors with overlap scores and boundary regression.

    Pipeline (``B`` queries, ``T`` grid cells, ``H`` hidden channels, ``A`` anchor ratios):

    1. the valid clips ``[B, L, D]`` are resampled to all ``T`` cells (repeating clips of
       shorter videos, :func:`pool_clips_to_grid` with ``upsample``) and projected to ``H``;
    2. the sentence (BiLSTM over frozen GloVe) gives word features ``[B, N, H]`` and a sentence
       vector; fusion: ``ReLU(W [v_t; s])`` → ``[B, H, T]``;
    3. ``num_levels`` temporal convolutions (kernel 3, stride 2), each followed by
       :class:`SemanticConditionedModulation` and ReLU: level ``l`` has ``T / 2**(l+1)``
       positions;
    4. a convolution shared by the levels predicts, per anchor, an overlap logit and
       ``(d_centre, d_width)`` offsets (:mod:`.anchors`).

    Losses: binary cross-entropy of the overlap logits against the anchors' IoU with the
    ground truth (``loss_overlap``, mmaction's ``BCELossWithLogits``), and smooth-L1 of the
    offsets on positive anchors (``loss_reg``, :class:`AnchorRegressionLoss`: IoU >=
    ``pos_iou``, plus each query's best anchor).

    ``vocab``, ``hidden_dim`` and ``dropout`` are stated once and filled into the parts.

    Args:
        vocab: GloVe subset folder or text file (the pipeline's vocabulary).
        video_dim: Clip feature size ``D``.
        hidden_dim: Channels ``H``.
        num_cells: Grid size ``T`` (divisible by ``2**num_levels``).
        num_levels: Pyramid levels.
        anchor_ratios: Anchor widths relative to a level's cell.
        attn_dim: Hidden size of the modulation's word attention.
        dropout: Dropout on the projected clip features and the word vectors.
        sentence_encoder: Config of the sentence encoder (``GloveRNNSentenceEncoder``:
            ``num_layers``, ``rnn_type``).
        loss_overlap: Config of the overlap loss.
        loss_reg: Config of the offset loss (``AnchorRegressionLoss``: ``pos_iou``,
            ``loss_weight``).
        topk: Moments returned by :meth:`predict_spans`.
        teacher_topk: Proposals returned by :meth:`teacher_outputs`.
        nms_thr: IoU above which a lower-ranked proposal is suppressed.
        data_preprocessor: Config of the data preprocessor.
        init_cfg: Initialisation config.
    """

    def __init__(self, vocab: str, video_dim: int = 1024, hidden_dim: int = 256,
                 num_cells: int = 64, num_levels: int = 5,
                 anchor_ratios: Sequence[float] = (0.75, 1.0, 1.5), attn_dim: int = 128,
                 dropout: float = 0.1,
                 sentence_encoder: dict = dict(type='GloveRNNSentenceEncoder', num_layers=1,
                                               rnn_type='lstm'),
                 loss_overlap: dict = dict(type='BCELossWithLogits', loss_weight=1.0),
                 loss_reg: dict = dict(type='AnchorRegressionLoss', pos_iou=0.5,
                                       loss_weight=1.0),
                 topk: int = 5, teacher_topk: int = 10, nms_thr: Optional[float] = 0.5,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.num_cells = num_cells
        self.topk = topk
        self.teacher_topk = teacher_topk
        self.nms_thr = nms_thr
        lengths = pyramid_lengths(num_cells, num_levels)
        self.register_buffer('anchors', multiscale_anchors(lengths, anchor_ratios),
                             persistent=False)
        if max(topk, teacher_topk) > len(self.anchors):
            raise ValueError(f'only {len(self.anchors)} anchors for topk={topk} and '
                             f'teacher_topk={teacher_topk}')
        self.num_ratios = len(anchor_ratios)
        self.video_proj = nn.Sequential(nn.Linear(video_dim, hidden_dim), nn.ReLU(),
                                        nn.Dropout(dropout))
        self.sentence_encoder = build_part(
            sentence_encoder, dict(vocab=vocab, hidden_dim=hidden_dim, dropout=dropout),
            'sentence_encoder')
        self.fusion = nn.Sequential(nn.Conv1d(2 * hidden_dim, hidden_dim, 1), nn.ReLU())
        self.level_convs = nn.ModuleList(
            nn.Conv1d(hidden_dim, hidden_dim, 3, stride=2, padding=1) for _ in lengths)
        self.modulations = nn.ModuleList(
            SemanticConditionedModulation(hidden_dim, hidden_dim, attn_dim) for _ in lengths)
        self.head = nn.Conv1d(hidden_dim, 3 * self.num_ratios, 3, padding=1)
        self.loss_overlap = build_part(loss_overlap, {}, 'loss_overlap')
        self.loss_reg = build_part(loss_reg, {}, 'loss_reg')

    def anchor_predictions(self, inputs: Dict[str, torch.Tensor]
                           ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Overlap logits ``[B, M]`` and offsets ``[B, M, 2]`` of the ``M`` anchors."""
        cells, _ = pool_clips_to_grid(inputs['video'], inputs['video_mask'], self.num_cells,
                                      upsample=True)
        clips = self.video_proj(cells)
        words, sentence = self.sentence_encoder(inputs['words'], inputs['word_mask'])
        fused = torch.cat([clips, sentence[:, None].expand_as(clips)], dim=-1)
        x = self.fusion(fused.transpose(1, 2))
        outputs = []
        for conv, modulate in zip(self.level_convs, self.modulations):
            x = F.relu(modulate(conv(x), words, inputs['word_mask']))
            out = self.head(x)
            batch, _, length = out.shape
            outputs.append(out.reshape(batch, self.num_ratios, 3, length).permute(0, 3, 1, 2)
                           .reshape(batch, length * self.num_ratios, 3))
        outputs = torch.cat(outputs, dim=1)
        return outputs[..., 0], outputs[..., 1:]

    def loss(self, inputs: Dict[str, torch.Tensor],
             data_samples: Optional[List[GroundingDataSample]]) -> Dict[str, torch.Tensor]:
        """Overlap BCE over all anchors and smooth-L1 offsets over the positive anchors."""
        if not data_samples:
            raise ValueError('SCDMGrounder.loss needs the data samples (gt_time, duration)')
        logits, offsets = self.anchor_predictions(inputs)
        gt, duration = annotated_moments(data_samples)
        gt = torch.from_numpy(gt / duration[:, None]).float().clamp(0.0, 1.0).to(logits.device)
        iou = torch.from_numpy(temporal_iou(anchor_moments(self.anchors).cpu().numpy()[None],
                                            gt.cpu().numpy()[:, None])).float()
        iou = iou.to(logits.device)
        target = encode_offsets(self.anchors, gt)
        return dict(loss_overlap=self.loss_overlap(logits, iou),
                    loss_reg=self.loss_reg(offsets, target, iou))

    def ranked_proposals(self, inputs: Dict[str, torch.Tensor],
                         k: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """Best ``k`` refined anchors after NMS: moments ``[B, k, 2]`` (fractions of the video)
        and overlap scores ``[B, k]`` in ``(0, 1)``."""
        logits, offsets = self.anchor_predictions(inputs)
        moments = decode_offsets(self.anchors, offsets)
        return topk_moments(moments, torch.sigmoid(logits), k, self.nms_thr)

    def predict_spans(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Top-``k`` proposals as inclusive clip spans ``[B, k, 2]`` of the batch grid (nearest
        clip boundaries) with their ``scores`` ``[B, k]``."""
        moments, scores = self.ranked_proposals(inputs, self.topk)
        spans = fractions_to_clip_spans(moments, inputs['video_mask'].sum(1))
        return dict(spans=spans, scores=scores)

    @torch.no_grad()
    def teacher_outputs(self, inputs: Dict[str, torch.Tensor]) -> TeacherOutputs:
        """:meth:`BaseGrounder.teacher_outputs` of kind ``'proposals'``: ``proposals``
        ``[B, K, 2]`` (fractions of the video, start <= end) and ``scores`` ``[B, K]`` (overlap
        scores in ``(0, 1)``, best first), with ``K = teacher_topk``; no ``valid_len`` (proposals
        have no clip grid)."""
        proposals, scores = self.ranked_proposals(inputs, self.teacher_topk)
        return dict(kind='proposals', proposals=proposals, scores=scores)
