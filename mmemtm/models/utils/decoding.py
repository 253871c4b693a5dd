"""Decoding of start/end scores into ranked clip spans."""
from typing import Dict, Optional, Tuple

import torch

NEG_INF = -1e30


def masked_log_softmax(logits: torch.Tensor, mask: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Log-softmax of ``logits`` with masked-out positions (``mask == 0``) at probability 0."""
    return torch.log_softmax(logits.masked_fill(mask == 0, NEG_INF), dim=dim)


def span_score_map(start_logits: torch.Tensor, end_logits: torch.Tensor, mask: torch.Tensor,
                   max_len: Optional[int] = None) -> torch.Tensor:
    """Joint probabilities of clip spans.

    Args:
        start_logits: ``[B, L]`` start logits.
        end_logits: ``[B, L]`` end logits.
        mask: ``[B, L]`` valid clips (1) and padding (0).
        max_len: Longest span in clips (None: unlimited).

    Returns:
        torch.Tensor: ``[B, L, L]``, ``P[b, i, j] = p_start[b, i] * p_end[b, j]`` for valid
        ``i <= j < i + max_len``, 0 elsewhere.
    """
    p_start = masked_log_softmax(start_logits, mask).exp()
    p_end = masked_log_softmax(end_logits, mask).exp()
    return mask_span_map(p_start[:, :, None] * p_end[:, None, :], mask, max_len)


def mask_span_map(score_map: torch.Tensor, mask: torch.Tensor,
                  max_len: Optional[int] = None) -> torch.Tensor:
    """Zero the entries of a ``[B, L, L]`` (start, end) map that are not valid spans."""
    length = score_map.shape[-1]
    keep = torch.ones(length, length, dtype=torch.bool, device=score_map.device).triu()
    if max_len is not None:
        keep = keep & ~torch.ones_like(keep).triu(max_len)
    valid = keep[None] & (mask[:, :, None] > 0) & (mask[:, None, :] > 0)
    return score_map.masked_fill(~valid, 0.0)


def topk_spans(score_map: torch.Tensor, k: int = 1, nms_thr: Optional[float] = 0.5,
               candidates: int = 200) -> Tuple[torch.Tensor, torch.Tensor]:
    """Best ``k`` spans of each score map.

    The top-1 span is the map's argmax (equal to the marginal argmaxes of a masked outer product,
    so ``end >= start``). Further spans come from the ``candidates`` best entries after temporal
    NMS (:func:`topk_moments` on the spans ``[i, j + 1]``); when fewer than ``k`` survive, the list
    is filled with the remaining best entries.

    Args:
        score_map: ``[B, L, L]`` scores of spans (invalid spans must score lowest, e.g. 0).
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
    """Ranked spans of a span-based grounder (:func:`span_score_map` + :func:`topk_spans`).

    Args:
        start_logits: ``[B, L]`` start logits (padding ignored).
        end_logits: ``[B, L]`` end logits (padding ignored).
        mask: ``[B, L]`` valid clips.
        k: Spans per query.
        nms_thr: IoU of the temporal NMS between ranked spans (None: plain top-k).
        max_len: Longest span in clips (None: unlimited, as in the reference).

    Returns:
        dict: ``spans`` ``[B, k, 2]`` (long, inclusive clip indices), ``scores`` ``[B, k]``
        (joint probabilities), ``start_prob`` / ``end_prob`` ``[B, L]`` (softmax over the valid
        clips, 0 at padding).
    """
    spans, scores = topk_spans(span_score_map(start_logits, end_logits, mask, max_len), k,
                               nms_thr)
    return dict(spans=spans, scores=scores,
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
    """Best ``k`` continuous moments of each query, after temporal NMS.

    When fewer than ``k`` moments survive NMS, the list is filled with the best suppressed ones.

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
    out_moments, out_scores = [], []
    for b in range(len(moments)):
        order = moment_nms_order(top_moments[b], k, nms_thr)
        if len(order) < k:
            taken = torch.zeros(len(top_idx[b]), dtype=torch.bool, device=order.device)
            taken[order] = True
            order = torch.cat([order, (~taken).nonzero()[:k - len(order), 0]])
        out_moments.append(top_moments[b, order])
        out_scores.append(top_scores[b, order])
    return torch.stack(out_moments), torch.stack(out_scores)
