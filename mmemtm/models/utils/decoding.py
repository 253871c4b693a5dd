"""Decoding of start/end scores into ranked clip spans."""
import math
from typing import Dict, Optional, Tuple

import torch

NEG_INF = -1e30


def masked_log_softmax(logits: torch.Tensor, mask: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Log-softmax of ``logits`` with masked-out positions (``mask == 0``) at probability 0."""
    return torch.log_softmax(logits.masked_fill(mask == 0, torch.finfo(logits.dtype).min),
                             dim=dim)


def span_log_score_map(start_logits: torch.Tensor, end_logits: torch.Tensor,
                       mask: torch.Tensor, max_len: Optional[int] = None) -> torch.Tensor:
    """Joint log-probabilities of clip spans.

    Decoding ranks spans in log space: the product ``p_start * p_end`` underflows to 0 for every
    valid span when the logits are confident (gaps of ~100 in float32, ~16 in float16), and an
    all-zero map cannot tell valid spans from invalid ones.

    Args:
        start_logits: ``[B, L]`` start logits.
        end_logits: ``[B, L]`` end logits.
        mask: ``[B, L]`` valid clips (1) and padding (0).
        max_len: Longest span in clips (None: unlimited).

    Returns:
        torch.Tensor: ``[B, L, L]`` float32 or wider, ``log p_start[b, i] + log p_end[b, j]`` for
        valid ``i <= j < i + max_len``, ``-inf`` elsewhere.
    """
    dtype = torch.promote_types(start_logits.dtype, torch.float32)
    log_start = masked_log_softmax(start_logits.to(dtype), mask)
    log_end = masked_log_softmax(end_logits.to(dtype), mask)
    joint = log_start[:, :, None] + log_end[:, None, :]
    return joint.masked_fill(~valid_span_mask(mask, max_len), -math.inf)


def span_score_map(start_logits: torch.Tensor, end_logits: torch.Tensor, mask: torch.Tensor,
                   max_len: Optional[int] = None) -> torch.Tensor:
    """Joint probabilities ``[B, L, L]`` of clip spans, ``exp`` of :func:`span_log_score_map`
    (0 for invalid spans; for plots, decoding uses the log map)."""
    return span_log_score_map(start_logits, end_logits, mask, max_len).exp()


def valid_span_mask(mask: torch.Tensor, max_len: Optional[int] = None) -> torch.Tensor:
    """``[B, L, L]`` bool: ``(i, j)`` is a valid span (``i <= j``, both valid clips, shorter than
    ``max_len`` clips when given)."""
    length = mask.shape[-1]
    keep = torch.ones(length, length, dtype=torch.bool, device=mask.device).triu()
    if max_len is not None:
        keep = keep & ~torch.ones_like(keep).triu(max_len)
    return keep[None] & (mask[:, :, None] > 0) & (mask[:, None, :] > 0)


def mask_span_map(score_map: torch.Tensor, mask: torch.Tensor,
                  max_len: Optional[int] = None) -> torch.Tensor:
    """Zero the entries of a ``[B, L, L]`` (start, end) map that are not valid spans."""
    return score_map.masked_fill(~valid_span_mask(mask, max_len), 0.0)


def topk_spans(score_map: torch.Tensor, k: int = 1, nms_thr: Optional[float] = 0.5,
               candidates: int = 200) -> Tuple[torch.Tensor, torch.Tensor]:
    """Best ``k`` spans of each score map.

    The top-1 span is the map's argmax among valid entries. Further spans come from the
    ``candidates`` best valid entries after temporal NMS (:func:`topk_moments` on the spans
    ``[i, j + 1]``). Entries of ``-inf`` or at most :data:`NEG_INF` are invalid and are never
    returned (see :func:`topk_moments` for what fills a list with too few valid spans).

    Args:
        score_map: ``[B, L, L]`` scores of spans, higher is better (log-probabilities or
            probabilities); invalid spans ``-inf`` or :data:`NEG_INF`.
        k: Spans per query.
        nms_thr: IoU above which a lower-ranked span is suppressed (None: plain top-k).
        candidates: Entries considered per query before NMS.

    Returns:
        tuple: ``spans`` ``[B, k, 2]`` long (inclusive clip indices) and ``scores`` ``[B, k]``.
    """
    batch, length, _ = score_map.shape
    index = torch.arange(length * length, device=score_map.device)
    moments = torch.stack([index // length, index % length + 1], dim=-1).float()
    top, scores = topk_moments(moments.expand(batch, -1, -1), score_map.reshape(batch, -1), k,
                               nms_thr if k > 1 else None, candidates)
    spans = top.round().long()
    spans[..., 1] -= 1
    return spans, scores


def decode_spans(start_logits: torch.Tensor, end_logits: torch.Tensor, mask: torch.Tensor,
                 k: int = 5, nms_thr: Optional[float] = 0.5,
                 max_len: Optional[int] = None) -> Dict[str, torch.Tensor]:
    """Ranked spans of a span-based grounder (:func:`span_log_score_map` + :func:`topk_spans`).

    Args:
        start_logits: ``[B, L]`` start logits (padding ignored).
        end_logits: ``[B, L]`` end logits (padding ignored).
        mask: ``[B, L]`` valid clips.
        k: Spans per query.
        nms_thr: IoU of the temporal NMS between ranked spans (None: plain top-k).
        max_len: Longest span in clips (None: unlimited, as in the reference).

    Returns:
        dict: ``spans`` ``[B, k, 2]`` (long, inclusive clip indices, always valid spans),
        ``scores`` ``[B, k]`` (joint probabilities, ranked in log space, so they may underflow
        to 0 while the order stays right), ``start_prob`` / ``end_prob`` ``[B, L]`` (softmax over
        the valid clips, 0 at padding).
    """
    log_map = span_log_score_map(start_logits, end_logits, mask, max_len)
    spans, log_scores = topk_spans(log_map, k, nms_thr)
    return dict(spans=spans, scores=log_scores.exp(),
                start_prob=masked_log_softmax(start_logits, mask).exp(),
                end_prob=masked_log_softmax(end_logits, mask).exp())


def pairwise_moment_iou(moments: torch.Tensor) -> torch.Tensor:
    """IoU ``[M, M]`` between continuous moments ``[M, 2]`` (start, end); 0 where the union is
    empty."""
    start, end = moments[:, 0], moments[:, 1]
    inter = (torch.minimum(end[:, None], end[None]) -
             torch.maximum(start[:, None], start[None])).clamp(min=0)
    union = torch.maximum(end[:, None], end[None]) - torch.minimum(start[:, None], start[None])
    return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(inter))


def moment_nms_order(moments: torch.Tensor, k: int, iou_thr: Optional[float]) -> torch.Tensor:
    """Indices of up to ``k`` continuous moments, best first, greedily skipping moments whose IoU
    with a kept one is above ``iou_thr`` (None: no suppression).

    Args:
        moments: ``[M, 2]`` (start, end) in any continuous unit, sorted by decreasing score.
        k: Number of moments to keep.
        iou_thr: Suppression threshold.
    """
    if iou_thr is None:
        return torch.arange(min(k, len(moments)), device=moments.device)
    overlap = (pairwise_moment_iou(moments) > iou_thr).cpu().numpy()
    kept = []
    for idx in range(len(moments)):
        if len(kept) == k:
            break
        if not overlap[idx, kept].any():
            kept.append(idx)
    return torch.tensor(kept, dtype=torch.long, device=moments.device)


def topk_moments(moments: torch.Tensor, scores: torch.Tensor, k: int = 5,
                 nms_thr: Optional[float] = 0.5,
                 candidates: int = 200) -> Tuple[torch.Tensor, torch.Tensor]:
    """Best ``k`` valid moments of each query, after temporal NMS.

    Moments scored ``-inf`` or at most :data:`NEG_INF` are invalid and never returned. When fewer
    than ``k`` valid moments survive NMS, the list is filled with the best suppressed valid ones;
    a query with fewer than ``k`` valid moments in all repeats its last one.

    Args:
        moments: ``[B, M, 2]`` (start, end), e.g. fractions of the video.
        scores: ``[B, M]`` scores, higher is better.
        k: Moments per query (at most ``M``).
        nms_thr: IoU above which a lower-ranked moment is suppressed (None: plain top-k).
        candidates: Best moments considered per query before NMS.

    Returns:
        tuple: ``moments`` ``[B, k, 2]`` and ``scores`` ``[B, k]``, best first.
    """
    if k > moments.shape[1]:
        raise ValueError(f'cannot keep {k} of {moments.shape[1]} moments')
    top_scores, top_idx = scores.topk(min(max(candidates, k), scores.shape[1]), dim=1)
    top_moments = torch.gather(moments, 1, top_idx[..., None].expand(-1, -1, 2))
    valid = top_scores > NEG_INF
    if not bool(valid[:, 0].all()):
        raise ValueError('a query has no valid moment to decode (every score is -inf)')
    out_moments, out_scores = [], []
    for b in range(len(moments)):
        count = int(valid[b].sum())
        order = moment_nms_order(top_moments[b, :count], k, nms_thr)
        if len(order) < k:
            taken = torch.zeros(count, dtype=torch.bool, device=order.device)
            taken[order] = True
            order = torch.cat([order, (~taken).nonzero()[:k - len(order), 0]])
        order = torch.cat([order, order[-1:].expand(k - len(order))])
        out_moments.append(top_moments[b, order])
        out_scores.append(top_scores[b, order])
    return torch.stack(out_moments), torch.stack(out_scores)
