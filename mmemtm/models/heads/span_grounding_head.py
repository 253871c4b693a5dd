"""Span grounding head: context-query fusion, matching head and conditioned predictor."""
from typing import Dict, Optional, Union

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from ..layers.cq_attention import CQAttention
from ..layers.cq_concat import CQConcat
from ..losses import masked_soft_cross_entropy
from .conditioned_span_predictor import ConditionedSpanPredictor
from .matching_head import MatchingHead


@MODELS.register_module()
class SpanGroundingHead(BaseModule):
    """From encoded video and query to start/end logits (SeqPAN's head, EMTM's student).

    * Fusion: ``q2v = CQA_v(V, Q)`` ``[B, L, D]``, ``v2q = CQA_q(Q, V)`` ``[B, N, D]`` (separate
      weights), ``F = CQConcat(q2v, v2q)`` ``[B, L, D]``;
    * :class:`MatchingHead`: ``F' = (F + pi E) * v_mask`` and tag logits;
    * :class:`ConditionedSpanPredictor` on ``F'``.

    EMTM's student is this head on the shared encoder's outputs; SeqPAN (and EMTM's co-trained
    teacher) put dual attention blocks in between.

    Args:
        dim: Feature dimension ``D``.
        max_vlen: Longest video in clips (position table of the predictor).
        num_heads: Attention heads of the predictor.
        drop_rate: Dropout rate.
        match_weight: ``lambda_m``, weight of the matching and orthogonality losses.
        num_conv_layers: Layers of the predictor's convolution block.
        kernel_size: Width of its depthwise convolutions.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self, dim: int = 128, max_vlen: int = 256, num_heads: int = 8,
                 drop_rate: float = 0.0, match_weight: float = 1.0, num_conv_layers: int = 4,
                 kernel_size: int = 7, init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.match_weight = match_weight
        self.video_attention = CQAttention(dim, drop_rate)
        self.query_attention = CQAttention(dim, drop_rate)
        self.concat = CQConcat(dim)
        self.matching = MatchingHead(dim)
        self.predictor = ConditionedSpanPredictor(dim, max_vlen, num_heads, num_conv_layers,
                                                  kernel_size, drop_rate)

    def fuse(self, video: torch.Tensor, query: torch.Tensor, video_mask: torch.Tensor,
             query_mask: torch.Tensor) -> torch.Tensor:
        """Fused clip features ``F`` ``[B, L, D]``."""
        q2v = self.video_attention(video, query, video_mask, query_mask)
        v2q = self.query_attention(query, video, query_mask, video_mask)
        return self.concat(q2v, v2q, video_mask, query_mask)

    def forward(self, video: torch.Tensor, query: torch.Tensor, video_mask: torch.Tensor,
                query_mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``video`` ``[B, L, D]``, ``query`` ``[B, N, D]``, masks ``[B, L]`` / ``[B, N]`` ->
        dict of ``start_logits`` / ``end_logits`` ``[B, L]`` (unmasked), ``match_logits``
        ``[B, L, 4]``, ``fused`` ``F`` and ``conditioned`` ``F'`` ``[B, L, D]``."""
        fused = self.fuse(video, query, video_mask, query_mask)
        conditioned, match_logits = self.matching(fused, video_mask)
        start_logits, end_logits = self.predictor(conditioned, video_mask)
        return dict(start_logits=start_logits, end_logits=end_logits,
                    match_logits=match_logits, fused=fused, conditioned=conditioned)

    def loss(self, outputs: Dict[str, torch.Tensor], targets: Dict[str, torch.Tensor],
             video_mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Hard losses of :meth:`forward`'s ``outputs``.

        ``loss_start`` / ``loss_end``: masked soft cross-entropy against ``start_label`` /
        ``end_label``; ``loss_match`` / ``loss_ortho``: the matching losses times
        ``match_weight``. ``targets`` is the batch's ``inputs['targets']``.
        """
        match = self.matching.loss(outputs['match_logits'], targets['match_label'], video_mask)
        return dict(
            loss_start=masked_soft_cross_entropy(outputs['start_logits'],
                                                 targets['start_label'], video_mask),
            loss_end=masked_soft_cross_entropy(outputs['end_logits'], targets['end_label'],
                                               video_mask),
            **{key: self.match_weight * value for key, value in match.items()})
