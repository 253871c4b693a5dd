"""Decoding of start/end scores into ranked clip spans (vectorised, in log space).

Every step works on whole batches: the joint ``[B, L, L]`` log-score map is one broadcast sum
with a cached band of valid spans, the candidates are one ``topk``, and the greedy temporal NMS
runs ``k`` vectorised steps over all queries (one per kept moment) instead of a Python loop over
queries and candidates.
"""
import math
from functools import lru_cache
from typing import Dict, Optional, Tuple

import numpy as np
import torch

NEG_INF = -1e30


class NonFiniteScoresError(ValueError):
    """The scores to decode hold NaN: the model's outputs are NaN (NaN weights or inputs)."""


def masked_log_softmax(logits: torch.Tensor, mask: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Log-softmax of ``logits`` with masked-out positions (``mask == 0``) at probability 0."""
    return torch.log_softmax(logits.masked_fill(mask == 0, torch.finfo(logits.dtype).min),
                             dim=dim)


@lru_cache(maxsize=64)
def _span_band(length: int, max_len: Optional[int], device: torch.device) -> torch.Tensor:
    """``[L, L]`` bool: ``i <= j`` (and ``j < i + max_len`` when given). Cached: decoding calls
    reuse one clip grid."""
    keep = torch.ones(length, length, dtype=torch.bool, device=device).triu()
    if max_len is not None:
        keep &= ~torch.ones_like(keep).triu(max_len)
    return keep


@lru_cache(maxsize=64)
def _span_band_bias(length: int, max_len: Optional[int], device: torch.device,
                    dtype: torch.dtype) -> torch.Tensor:
    """``[L, L]``: 0 on :func:`_span_band`, ``-inf`` elsewhere."""
    band = _span_band(length, max_len, device)
    return torch.zeros(length, length, dtype=dtype, device=device).masked_fill(~band, -math.inf)


def boundary_log_probs(start_logits: torch.Tensor, end_logits: torch.Tensor,
                       mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Log-softmax over the valid clips of start and end logits ``[B, L]`` (float32 or wider;
    padding at a very large negative value, probability 0)."""
    dtype = torch.promote_types(start_logits.dtype, torch.float32)
    logits = torch.stack([start_logits, end_logits], dim=1).to(dtype)
    log_probs = masked_log_softmax(logits, mask[:, None])
    return log_probs[:, 0], log_probs[:, 1]


def joint_log_map(log_start: torch.Tensor, log_end: torch.Tensor, mask: torch.Tensor,
                  max_len: Optional[int] = None) -> torch.Tensor:
    """``[B, L, L]``: ``log_start[b, i] + log_end[b, j]`` for valid spans, ``-inf`` elsewhere.

    Args:
        log_start: ``[B, L]`` start log-probabilities.
        log_end: ``[B, L]`` end log-probabilities.
        mask: ``[B, L]`` valid clips (1) and padding (0).
        max_len: Longest span in clips (None: unlimited).
    """
    invalid = mask == 0
    log_start = log_start.masked_fill(invalid, -math.inf)
    log_end = log_end.masked_fill(invalid, -math.inf)
    bias = _span_band_bias(mask.shape[-1], max_len, mask.device, log_start.dtype)
    return log_start[:, :, None] + (log_end[:, None, :] + bias)


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
    log_start, log_end = boundary_log_probs(start_logits, end_logits, mask)
    return joint_log_map(log_start, log_end, mask, max_len)


def span_score_map(start_logits: torch.Tensor, end_logits: torch.Tensor, mask: torch.Tensor,
                   max_len: Optional[int] = None) -> torch.Tensor:
    """Joint probabilities ``[B, L, L]`` of clip spans, ``exp`` of :func:`span_log_score_map`
    (0 for invalid spans; for plots, decoding uses the log map)."""
    return span_log_score_map(start_logits, end_logits, mask, max_len).exp()


def valid_span_mask(mask: torch.Tensor, max_len: Optional[int] = None) -> torch.Tensor:
    """``[B, L, L]`` bool: ``(i, j)`` is a valid span (``i <= j``, both valid clips, shorter than
    ``max_len`` clips when given)."""
    band = _span_band(mask.shape[-1], max_len, mask.device)
    return band[None] & (mask[:, :, None] > 0) & (mask[:, None, :] > 0)


def mask_span_map(score_map: torch.Tensor, mask: torch.Tensor,
                  max_len: Optional[int] = None) -> torch.Tensor:
    """Zero the entries of a ``[B, L, L]`` (start, end) map that are not valid spans."""
    return score_map.masked_fill(~valid_span_mask(mask, max_len), 0.0)


def topk_spans(score_map: torch.Tensor, k: int = 1, nms_thr: Optional[float] = 0.5,
               candidates: int = 200) -> Tuple[torch.Tensor, torch.Tensor]:
    """Best ``k`` spans of each score map.

    The top-1 span is the map's argmax among valid entries. Further spans come from the
    ``candidates`` best valid entries after temporal NMS (as :func:`topk_moments`, on the spans
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
    if k > length * length:
        raise ValueError(f'cannot keep {k} of {length * length} spans')
    count = min(max(candidates, k), length * length)
    scores, index = score_map.reshape(batch, -1).topk(count, dim=1)
    moments = torch.stack([index // length, index % length + 1], dim=-1)
    order = ranked_nms_order(moments.float(), scores, k, nms_thr if k > 1 else None)
    spans = torch.gather(moments, 1, order[..., None].expand(-1, -1, 2))
    spans[..., 1] -= 1
    return spans, torch.gather(scores, 1, order)


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
    log_start, log_end = boundary_log_probs(start_logits, end_logits, mask)
    spans, log_scores = topk_spans(joint_log_map(log_start, log_end, mask, max_len), k, nms_thr)
    return dict(spans=spans, scores=log_scores.exp(),
                start_prob=log_start.exp().to(start_logits.dtype),
                end_prob=log_end.exp().to(end_logits.dtype))


def moment_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU ``[..., M, N]`` of continuous moments ``a`` ``[..., M, 2]`` with moments ``b``
    ``[..., N, 2]`` (start, end; any unit); 0 where the union is empty."""
    start_a, end_a = a[..., :, None, 0], a[..., :, None, 1]
    start_b, end_b = b[..., None, :, 0], b[..., None, :, 1]
    inter = (torch.minimum(end_a, end_b) - torch.maximum(start_a, start_b)).clamp(min=0)
    union = torch.maximum(end_a, end_b) - torch.minimum(start_a, start_b)
    return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(inter))


def pairwise_moment_iou(moments: torch.Tensor) -> torch.Tensor:
    """IoU ``[M, M]`` between continuous moments ``[M, 2]`` (start, end); 0 where the union is
    empty."""
    return moment_iou(moments, moments)


def _iou_with_np(moments: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """IoU of moments ``[..., 2]`` with broadcastable moments ``chosen`` (0 where the union is
    empty; the float operations of :func:`pairwise_moment_iou`)."""
    start, end = moments[..., 0], moments[..., 1]
    inter = np.maximum(np.minimum(end, chosen[..., 1]) - np.maximum(start, chosen[..., 0]), 0)
    union = np.maximum(end, chosen[..., 1]) - np.minimum(start, chosen[..., 0])
    return np.where(union > 0, inter / np.maximum(union, moments.dtype.type(1e-12)), 0)


#: Leading candidates whose pairwise IoUs :func:`greedy_nms_keep` computes at once.
NMS_WINDOW = 32


def greedy_nms_keep(moments: np.ndarray, valid: np.ndarray, k: int,
                    iou_thr: float) -> np.ndarray:
    """Greedy temporal NMS of ranked candidates, vectorised over the batch.

    Step ``s`` keeps each row's first candidate that is valid and not yet suppressed, then
    suppresses the candidates whose IoU with it is above ``iou_thr``: the same moments, in the
    same order, as the sequential greedy NMS stopped after ``k`` kept moments. It runs in numpy
    on the pairwise IoUs of the first :data:`NMS_WINDOW` candidates (``k`` steps of three array
    operations); rows that keep fewer than ``k`` there continue over all candidates.

    Args:
        moments: ``[B, M, 2]`` float (start, end), each row sorted by decreasing score.
        valid: ``[B, M]`` bool, candidates that may be kept.
        k: Moments to keep per row.
        iou_thr: Suppression threshold.

    Returns:
        np.ndarray: ``[B, k]`` int64, candidate indices in the order kept; ``M`` where a row
        kept fewer than ``k``.
    """
    batch, count = valid.shape
    window = min(count, NMS_WINDOW)
    head = moments[:, :window]
    suppress = _iou_with_np(head[:, :, None], head[:, None]) > iou_thr
    suppress[:, np.arange(window), np.arange(window)] = True
    kept = _greedy_steps(suppress, valid[:, :window].copy(), k, count)
    more = ((kept == count).any(1) & valid[:, window:].any(1))
    if more.any():
        kept[more] = _greedy_over_all(moments[more], valid[more], k, iou_thr)
    return kept


def _greedy_steps(suppress: np.ndarray, alive: np.ndarray, k: int, none: int) -> np.ndarray:
    """``k`` greedy steps on a ``[B, W, W]`` suppression matrix; ``none`` marks no pick."""
    rows = np.arange(len(alive))
    kept = np.full((len(alive), k), none, dtype=np.int64)
    for step in range(k):
        has = alive.any(1)
        if not has.any():
            break
        first = alive.argmax(1)
        kept[has, step] = first[has]
        alive &= ~suppress[rows, first]
    return kept


def _greedy_over_all(moments: np.ndarray, valid: np.ndarray, k: int,
                     iou_thr: float) -> np.ndarray:
    """The greedy NMS of :func:`greedy_nms_keep` over all ``M`` candidates, one IoU row per
    step."""
    batch, count = valid.shape
    rows = np.arange(batch)
    alive = valid.copy()
    kept = np.full((batch, k), count, dtype=np.int64)
    for step in range(k):
        has = alive.any(1)
        if not has.any():
            break
        first = alive.argmax(1)
        kept[has, step] = first[has]
        alive &= _iou_with_np(moments, moments[rows, first][:, None]) <= iou_thr
        alive[rows, first] = False
    return kept


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
    kept = greedy_nms_keep(moments[None].detach().cpu().numpy(),
                           np.ones((1, len(moments)), dtype=bool), k, iou_thr)[0]
    return torch.from_numpy(kept[kept < len(moments)]).to(moments.device)


def ranked_nms_order(moments: torch.Tensor, scores: torch.Tensor, k: int,
                     nms_thr: Optional[float]) -> torch.Tensor:
    """Indices ``[B, k]`` of the returned candidates among ranked ones.

    Candidates scored ``-inf`` or at most :data:`NEG_INF` are invalid and never returned. The
    moments kept by the NMS come first; when fewer than ``k`` are kept, the best suppressed valid
    ones follow in rank order; a row with fewer than ``k`` valid candidates in all repeats its
    last one.

    Args:
        moments: ``[B, M, 2]`` candidate moments sorted by decreasing score.
        scores: ``[B, M]`` their scores (decreasing along each row).
        k: Moments per query (at most ``M``).
        nms_thr: IoU above which a lower-ranked moment is suppressed (None: plain top-k).

    Raises:
        ValueError: A row has no valid candidate.
    """
    nan = torch.isnan(scores).any(dim=1)
    if nan.any():
        raise NonFiniteScoresError(
            f'the scores of {int(nan.sum())} of {len(nan)} queries (first: batch row '
            f'{int(nan.nonzero()[0, 0])}) are NaN: the model\'s outputs hold NaN (are its weights '
            'or the clip features NaN?)')
    valid = (scores > NEG_INF).cpu().numpy()
    if not valid[:, 0].all():
        raise ValueError('a query has no valid moment to decode (every score is -inf)')
    batch, count = valid.shape
    rank = np.arange(count, dtype=np.float64)[None]
    if nms_thr is None:
        key = np.where(valid, rank, np.inf)
    else:
        kept = greedy_nms_keep(moments.detach().float().cpu().numpy(), valid, k, nms_thr)
        if (kept < count).all():
            return torch.from_numpy(kept).to(scores.device)
        # kept ones by step, then the suppressed valid ones in rank order, invalid ones never
        key = np.where(valid, k + rank, np.inf)
        rows, steps = np.nonzero(kept < count)
        key[rows, kept[rows, steps]] = steps
    order = np.argsort(key, axis=1, kind='stable')[:, :k]
    last = np.isfinite(np.take_along_axis(key, order, 1)).sum(1, keepdims=True) - 1
    order = np.take_along_axis(order, np.minimum(np.arange(k)[None], last), 1)
    return torch.from_numpy(order).to(scores.device)


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
    order = ranked_nms_order(top_moments, top_scores, k, nms_thr)
    return (torch.gather(top_moments, 1, order[..., None].expand(-1, -1, 2)),
            torch.gather(top_scores, 1, order))


def fractions_to_clip_spans(moments: torch.Tensor, v_len: torch.Tensor) -> torch.Tensor:
    """Inclusive clip spans ``[B, K, 2]`` (long) nearest to moments given as fractions.

    Args:
        moments: ``[B, K, 2]`` (start, end) as fractions of the video, ``0 <= start <= end <= 1``.
        v_len: ``[B]`` valid clips of each video.

    Returns:
        torch.Tensor: ``start = round(s * v_len)`` and ``end = round(e * v_len) - 1``, clamped to
        ``0 <= start <= end < v_len``.
    """
    v = v_len.long().clamp(min=1)[:, None]
    start = torch.minimum(torch.round(moments[..., 0] * v).long().clamp(min=0), v - 1)
    end = torch.minimum(torch.round(moments[..., 1] * v).long() - 1, v - 1)
    return torch.stack([start, torch.maximum(end, start)], dim=-1)
