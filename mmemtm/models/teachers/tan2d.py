"""2-D temporal map teacher: 2D-TAN (Zhang, Peng, Fu, Luo, "Learning 2D Temporal Adjacent
Networks for Moment Localization with Natural Language", AAAI 2020), the pooling variant.

Every (start, end) span of a ``T``-cell clip grid is a candidate moment. Its feature (max- or
average-pooled over the span's cells) is fused with the sentence vector (Hadamard product, then L2
normalisation over channels), 2-D convolutions over the map let neighbouring candidates share
context, and a 1x1 convolution scores each candidate. Training is binary cross-entropy against
the candidate's IoU with the ground truth, linearly rescaled between ``iou_min`` and ``iou_max``
(the "scaled IoU" loss of 2D-TAN, also used by MMN).
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS

from mmemtm.structures import GroundingDataSample, temporal_iou
from ..grounders.base_grounder import BaseGrounder, TeacherOutputs
from ..layers.map2d_layers import span_feature_map, valid_span_mask
from ..utils import build_part, refuse_moved_arguments
from ..utils.decoding import NEG_INF, topk_spans
from .clip_grid import grid_candidate_moments, grid_spans_to_clip_spans, pool_clips_to_grid
from .targets import annotated_moments

#: Arguments of the flat constructor (before the nested part configs) -> their place now.
TAN2D_MOVED_ARGUMENTS = {
    'text_layers': 'sentence_encoder.num_layers',
    'text_rnn': 'sentence_encoder.rnn_type',
    'map_layers': 'map_convs.num_layers',
    'kernel_size': 'map_convs.kernel_size',
    'iou_min': 'loss_iou.iou_min',
    'iou_max': 'loss_iou.iou_max',
}

def candidate_ious(data_samples: List[GroundingDataSample], grid_len: torch.Tensor,
                   v_len: torch.Tensor, num_cells: int) -> torch.Tensor:
    """IoU ``[B, T, T]`` of every grid span's moment (seconds) with the annotated moment.

    Spans with ``j < i`` get IoU 0 (their end is before their start).
    """
    gt, duration = annotated_moments(data_samples)
    moments = grid_candidate_moments(grid_len.cpu(), v_len.cpu(), torch.from_numpy(duration),
                                     num_cells).numpy()
    iou = temporal_iou(moments, gt[:, None, None, :])
    return torch.from_numpy(iou).float().to(grid_len.device)


@MODELS.register_module()
@refuse_moved_arguments(TAN2D_MOVED_ARGUMENTS)
class TAN2DGrounder(BaseGrounder):
    """2D-TAN: scores every candidate span of a ``T``-cell grid on a 2-D temporal map.

    Pipeline (``B`` queries, ``L`` batch clips, ``T`` grid cells, ``H`` hidden channels):

    1. the ``v_len`` valid clips ``[B, L, D]`` are averaged into ``g = min(v_len, T)`` cells
       (:func:`pool_clips_to_grid`), projected to ``H`` (1x1 convolution + ReLU) → ``[B, H, T]``;
    2. span features ``[B, H, T, T]`` by max- or average-pooling over each span's cells;
    3. the sentence (``sentence_encoder``: BiLSTM over frozen GloVe, final states) is projected
       to ``H`` and fused by Hadamard product, then L2-normalised over channels;
    4. ``map_convs`` (:class:`TemporalMapConvStack`) and a 1x1 convolution give one logit per
       span ``[B, T, T]``; only candidates ``i <= j < g`` (and, with ``num_dense``, 2D-TAN's
       sparse sampling) count; ``loss_iou`` (:class:`ScaledIoULoss`) trains them.

    ``vocab``, ``hidden_dim`` and ``dropout`` are stated once and filled into the parts.

    Args:
        vocab: GloVe subset folder or text file (the pipeline's vocabulary).
        video_dim: Clip feature size ``D``.
        hidden_dim: Channels ``H`` of the map.
        num_cells: Grid size ``T`` (2D-TAN: TACoS 128, Charades-STA 16, ActivityNet 64; see
            ``configs/_base_/models/tan2d.py``).
        pooling: ``'max'`` or ``'avg'`` span pooling.
        num_dense: Sparse sampling: spans longer than this many cells are sampled on coarser
            strides (2D-TAN: 16 for T ≥ 64); None keeps every span.
        dropout: Dropout on the projected clip features, the word vectors and the map layers.
        sentence_encoder: Config of the sentence encoder (``GloveRNNSentenceEncoder``:
            ``num_layers``, ``rnn_type``).
        map_convs: Config of the map convolutions (``TemporalMapConvStack``: ``num_layers``,
            ``kernel_size``).
        loss_iou: Config of the loss (``ScaledIoULoss``: ``iou_min``, ``iou_max``; TACoS 0.3 /
            0.7, Charades-STA and ActivityNet 0.5 / 1.0).
        topk: Moments returned by :meth:`predict_spans`.
        nms_thr: IoU (on the grid) above which a lower-ranked moment is suppressed.
        data_preprocessor: Config of the data preprocessor.
        init_cfg: Initialisation config.
    """

    def __init__(self, vocab: str, video_dim: int = 1024, hidden_dim: int = 512,
                 num_cells: int = 128, pooling: str = 'max', num_dense: Optional[int] = None,
                 dropout: float = 0.1,
                 sentence_encoder: dict = dict(type='GloveRNNSentenceEncoder', num_layers=1,
                                               rnn_type='lstm'),
                 map_convs: dict = dict(type='TemporalMapConvStack', num_layers=8,
                                        kernel_size=5),
                 loss_iou: dict = dict(type='ScaledIoULoss', iou_min=0.3, iou_max=0.7),
                 topk: int = 5, nms_thr: Optional[float] = 0.5,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if pooling not in ('max', 'avg'):
            raise ValueError(f'pooling must be "max" or "avg", got {pooling!r}')
        self.num_cells = num_cells
        self.pooling = pooling
        self.num_dense = num_dense
        self.topk = topk
        self.nms_thr = nms_thr
        self.video_proj = nn.Sequential(nn.Conv1d(video_dim, hidden_dim, 1), nn.ReLU(),
                                        nn.Dropout(dropout))
        shared = dict(vocab=vocab, hidden_dim=hidden_dim, dropout=dropout)
        self.sentence_encoder = build_part(sentence_encoder, shared, 'sentence_encoder')
        self.text_proj = nn.Linear(hidden_dim, hidden_dim)
        self.map_convs = build_part(map_convs, dict(shared, in_channels=hidden_dim,
                                                    hidden_channels=hidden_dim), 'map_convs')
        self.score_head = nn.Conv2d(hidden_dim, 1, 1)
        self.loss_iou = build_part(loss_iou, {}, 'loss_iou')

    def score_logits(self, inputs: Dict[str, torch.Tensor]
                     ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Logits of the candidate spans.

        Returns:
            tuple: ``logits`` ``[B, T, T]``, candidate ``mask`` ``[B, T, T]`` (bool) and
            ``grid_len`` ``[B]`` valid cells.
        """
        cells, grid_len = pool_clips_to_grid(inputs['video'], inputs['video_mask'],
                                             self.num_cells)
        clips = self.video_proj(cells.transpose(1, 2))
        span_feats = span_feature_map(clips, self.pooling)
        _, sentence = self.sentence_encoder(inputs['words'], inputs['word_mask'])
        fused = F.normalize(self.text_proj(sentence)[:, :, None, None] * span_feats, dim=1)
        mask = valid_span_mask(grid_len, self.num_cells, self.num_dense)
        logits = self.score_head(self.map_convs(fused, mask)).squeeze(1)
        return logits, mask, grid_len

    def loss(self, inputs: Dict[str, torch.Tensor],
             data_samples: Optional[List[GroundingDataSample]]) -> Dict[str, torch.Tensor]:
        """Scaled-IoU binary cross-entropy, averaged over the candidate spans of the batch."""
        if not data_samples:
            raise ValueError('TAN2DGrounder.loss needs the data samples (gt_time, duration)')
        logits, mask, grid_len = self.score_logits(inputs)
        iou = candidate_ious(data_samples, grid_len, inputs['video_mask'].sum(1).long(),
                             self.num_cells)
        return dict(loss_scaled_iou=self.loss_iou(logits, iou, mask))

    def score_map(self, inputs: Dict[str, torch.Tensor]
                  ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sigmoid scores ``[B, T, T]`` (0 outside the candidates), mask and ``grid_len``."""
        logits, mask, grid_len = self.score_logits(inputs)
        return torch.sigmoid(logits).masked_fill(~mask, 0.0), mask, grid_len

    def predict_spans(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Top-``k`` spans after NMS, on the batch's clip grid.

        Returns:
            dict: ``spans`` ``[B, k, 2]`` (long, inclusive clip indices of the ``L`` grid) and
            ``scores`` ``[B, k]`` (sigmoid scores).
        """
        scores, mask, grid_len = self.score_map(inputs)
        # decoding runs in float32 (NEG_INF marks the non-candidates; float16 cannot hold it)
        grid_spans, top = topk_spans(scores.float().masked_fill(~mask, NEG_INF), self.topk,
                                     self.nms_thr)
        spans = grid_spans_to_clip_spans(grid_spans, grid_len, inputs['video_mask'].sum(1))
        return dict(spans=spans, scores=top)

    @torch.no_grad()
    def teacher_outputs(self, inputs: Dict[str, torch.Tensor]) -> TeacherOutputs:
        """:meth:`BaseGrounder.teacher_outputs` of kind ``'map2d'``: ``score_map`` ``[B, T, T]``
        (sigmoid scores of :meth:`score_map`, 0 outside the candidates; cell ``i`` of sample ``b``
        is about the ``i``-th of ``valid_len[b]`` equal parts of the video, exactly when it has at
        most ``T`` clips) and ``valid_len`` ``[B]`` (long, the valid cells ``min(v_len, T)``)."""
        scores, _, grid_len = self.score_map(inputs)
        return dict(kind='map2d', score_map=scores, valid_len=grid_len)
