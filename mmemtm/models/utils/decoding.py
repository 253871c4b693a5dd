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


def temporal_nms_order(spans: torch.Tensor, scores: torch.Tensor, k: int,
                       iou_thr: Optional[float]) -> torch.Tensor:
    """Indices of up to ``k`` spans, best first, greedily skipping spans that overlap a kept one.

    Args:
        spans: ``[M, 2]`` inclusive clip spans, sorted by decreasing ``scores``.
        scores: ``[M]`` scores.
        k: Number of spans to keep.
        iou_thr: Spans with IoU above this with a kept span are skipped (None: no suppression).
    """
    if iou_thr is None:
        return torch.arange(min(k, len(spans)), device=spans.device)
    starts, ends = spans[:, 0].float(), spans[:, 1].float() + 1
    kept = []
    for idx in range(len(spans)):
        if len(kept) == k:
            break
        if kept:
            prev = torch.stack(kept)
            inter = (torch.minimum(ends[prev], ends[idx]) -
                     torch.maximum(starts[prev], starts[idx])).clamp(min=0)
            union = torch.maximum(ends[prev], ends[idx]) - torch.minimum(starts[prev], starts[idx])
            if bool((inter / union > iou_thr).any()):
                continue
        kept.append(torch.tensor(idx, device=spans.device))
    return torch.stack(kept)


def topk_spans(score_map: torch.Tensor, k: int = 1, nms_thr: Optional[float] = 0.5,
               candidates: int = 200) -> Tuple[torch.Tensor, torch.Tensor]:
    """Best ``k`` spans of each score map.

    The top-1 span is the map's argmax (equal to the marginal argmaxes of a masked outer product,
    so ``end >= start``). Further spans come from the ``candidates`` best entries after temporal
    NMS; when fewer than ``k`` survive, the list is filled with the remaining best entries.

    Args:
        score_map: ``[B, L, L]`` scores of spans (invalid spans must score lowest, e.g. 0).
        k: Spans per query.
        nms_thr: IoU above which a lower-ranked span is suppressed (None: plain top-k).
        candidates: Entries considered per query before NMS.

    Returns:
        tuple: ``spans`` ``[B, k, 2]`` long (inclusive clip indices) and ``scores`` ``[B, k]``.
    """
    batch, length, _ = score_map.shape
    flat = score_map.reshape(batch, -1)
    top_scores, top_idx = flat.topk(min(max(candidates, k), flat.shape[1]), dim=1)
    spans = torch.stack([top_idx // length, top_idx % length], dim=-1)
    out_spans, out_scores = [], []
    for b in range(batch):
        order = temporal_nms_order(spans[b], top_scores[b], k, nms_thr if k > 1 else None)
        if len(order) < k:
            rest = [i for i in range(len(spans[b])) if i not in set(order.tolist())]
            order = torch.cat([order, torch.tensor(rest[:k - len(order)], device=order.device,
                                                   dtype=order.dtype)])
        out_spans.append(spans[b, order])
        out_scores.append(top_scores[b, order])
    return torch.stack(out_spans), torch.stack(out_scores)


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
