"""A trivial baseline: the most likely start/end positions relative to the video, ignoring it."""
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmaction.registry import MODELS

from mmemtm.structures import GroundingDataSample
from ..losses import masked_soft_cross_entropy
from ..utils.decoding import span_log_score_map, topk_spans
from .base_grounder import BaseGrounder


@MODELS.register_module()
class SpanPriorGrounder(BaseGrounder):
    """Learns where moments start and end relative to the video, from the labels alone.

    Clip ``i`` of a ``v_len``-clip video falls in relative bin ``floor((i + 0.5) / v_len * bins)``;
    each bin has a learned start and end logit. It sees neither the video nor the sentence, so it
    is the "predict the most common relative span" baseline every real model must beat.

    Args:
        num_bins: Number of relative-position bins.
        topk: Moments returned per query.
        data_preprocessor: Config of the data preprocessor.
    """

    def __init__(self, num_bins: int = 100, topk: int = 5,
                 data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        self.num_bins = num_bins
        self.topk = topk
        self.logits = nn.Parameter(torch.zeros(2, num_bins))

    def boundary_logits(self, video_mask: torch.Tensor) -> torch.Tensor:
        """Start and end logits ``[2, B, L]`` of every clip of every video."""
        v_len = video_mask.sum(1, keepdim=True).clamp(min=1)
        pos = torch.arange(video_mask.shape[1], device=video_mask.device)[None] + 0.5
        bins = (pos / v_len * self.num_bins).long().clamp(max=self.num_bins - 1)
        return self.logits[:, bins]

    def loss(self, inputs: Dict[str, torch.Tensor],
             data_samples: Optional[List[GroundingDataSample]]) -> Dict[str, torch.Tensor]:
        start, end = self.boundary_logits(inputs['video_mask'])
        targets, mask = inputs['targets'], inputs['video_mask']
        return dict(
            loss_start=masked_soft_cross_entropy(start, targets['start_label'], mask),
            loss_end=masked_soft_cross_entropy(end, targets['end_label'], mask))

    def predict_spans(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        mask = inputs['video_mask']
        start, end = self.boundary_logits(mask)
        spans, log_scores = topk_spans(span_log_score_map(start, end, mask), self.topk)
        return dict(spans=spans, scores=log_scores.exp())

    @torch.no_grad()
    def teacher_outputs(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Outputs as a span teacher (:meth:`BaseGrounder.teacher_outputs`, ``kind='span'``).

        Returns:
            dict: ``kind='span'``, ``start_logits`` / ``end_logits`` ``[B, L]`` on the batch's
            clip grid and ``valid_len`` ``[B]`` (long, valid clips of each video).
        """
        mask = inputs['video_mask']
        start, end = self.boundary_logits(mask)
        return dict(kind='span', start_logits=start, end_logits=end,
                    valid_len=mask.sum(1).long())
