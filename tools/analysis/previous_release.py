"""The eager inference path of the previous release: the baseline of the end-to-end speed goal
(docs/deployment.md), timed side by side with this release's backends by
``benchmark_efficiency.py`` (it lives beside that tool: the package itself patches nothing).

This release changed, without changing any output, how the student's layers compute:

* :class:`~mmemtm.models.layers.ConvBlock` ran its ``nn.Conv1d`` modules on ``[B, D, L]``
  (now height-1 2-D convolutions of the same weights);
* masked softmaxes filled a copy of the scores (now they add a bias), in the context-query
  attention, the query pooling and the multi-head attention;
* the multi-head attention divided its scores by the square root of the head size, read from
  the tensor's shape (now it scales the queries by a constant);
* the span decoding built its map anew per call and ran the temporal NMS as a Python loop over
  queries and candidates (now :func:`mmemtm.models.utils.decode_spans`, vectorised).

:func:`previous_release_layers` puts the previous layer code back for the duration of a call, so
the baseline runs the very same modules and weights as the other rows;
:func:`previous_release_decode_spans` is the previous decoding. Both give this release's outputs
(tested).
"""
import contextlib
import math
from typing import Dict, Iterator, List, Optional
from unittest import mock

import torch

from mmemtm.models.layers import ConvBlock, MaskedSelfAttention
from mmemtm.models.layers import cq_attention, cq_concat
from mmemtm.models.utils import (NEG_INF, apply_mask, masked_log_softmax, merge_heads,
                                 pairwise_moment_iou, split_heads)


def filled_masked_softmax(logits: torch.Tensor, mask: torch.Tensor,
                          dim: int = -1) -> torch.Tensor:
    """The previous masked softmax: masked positions filled with :data:`NEG_INF`."""
    return torch.softmax(logits.masked_fill(mask == 0, NEG_INF), dim=dim)


def conv_block_forward(self: ConvBlock, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The previous :meth:`ConvBlock.forward`: the 1-D modules on ``[B, D, L]``."""
    for norm, depthwise, pointwise in zip(self.norms, self.depthwise, self.pointwise):
        h = apply_mask(norm(x), mask).transpose(1, 2)
        h = pointwise(depthwise(h)).transpose(1, 2)
        x = x + self.dropout(torch.relu(h))
    return apply_mask(x, mask)


def self_attention_forward(self: MaskedSelfAttention, x: torch.Tensor,
                           mask: torch.Tensor) -> torch.Tensor:
    """The previous :meth:`MaskedSelfAttention.forward`: scores divided by the square root of
    the head size read from the shape, then a filled masked softmax."""
    q, k, v = (split_heads(t, self.num_heads) for t in (self.query(x), self.key(x), self.value(x)))
    scores = torch.matmul(q, k.transpose(-1, -2)) / q.shape[-1]**0.5
    probs = self.dropout(filled_masked_softmax(scores, mask[:, None, None, :]))
    return apply_mask(merge_heads(torch.matmul(probs, v)), mask)


@contextlib.contextmanager
def previous_release_layers() -> Iterator[None]:
    """Within the block, the student's layers compute as in the previous release."""
    with contextlib.ExitStack() as stack:
        for module in (cq_attention, cq_concat):
            stack.enter_context(mock.patch.object(module, 'masked_softmax',
                                                  filled_masked_softmax))
        stack.enter_context(mock.patch.object(ConvBlock, 'forward', conv_block_forward))
        stack.enter_context(mock.patch.object(MaskedSelfAttention, 'forward',
                                              self_attention_forward))
        yield


def previous_release_decode_spans(start_logits: torch.Tensor, end_logits: torch.Tensor,
                                  mask: torch.Tensor, k: int = 5,
                                  nms_thr: Optional[float] = 0.5,
                                  max_len: Optional[int] = None,
                                  candidates: int = 200) -> Dict[str, torch.Tensor]:
    """The span decoding of the previous release, the baseline of the end-to-end goal (same
    outputs as :func:`mmemtm.models.utils.decode_spans`): the log-space map built anew per call
    (a fresh ``[L, L]`` band mask and all ``L * L`` span moments), the boundary probabilities
    computed a second time, and the temporal NMS as a Python loop over queries and candidates
    (one ``[M, M]`` IoU matrix per query)."""
    dtype = torch.promote_types(start_logits.dtype, torch.float32)
    log_start = masked_log_softmax(start_logits.to(dtype), mask)
    log_end = masked_log_softmax(end_logits.to(dtype), mask)
    batch, length = mask.shape
    band = torch.ones(length, length, dtype=torch.bool, device=mask.device).triu()
    if max_len is not None:
        band = band & ~torch.ones_like(band).triu(max_len)
    valid = band[None] & (mask[:, :, None] > 0) & (mask[:, None, :] > 0)
    log_map = (log_start[:, :, None] + log_end[:, None, :]).masked_fill(~valid, -math.inf)
    index = torch.arange(length * length, device=mask.device)
    moments = torch.stack([index // length, index % length + 1], dim=-1).float()
    scores, top = log_map.reshape(batch, -1).topk(min(max(candidates, k), length * length), 1)
    top_moments = torch.gather(moments.expand(batch, -1, -1), 1, top[..., None].expand(-1, -1, 2))
    spans, kept_scores = [], []
    for b in range(batch):
        count = int((scores[b] > NEG_INF).sum())
        overlap = None
        if k > 1 and nms_thr is not None:
            overlap = (pairwise_moment_iou(top_moments[b, :count]) > nms_thr).cpu().numpy()
        kept: List[int] = []
        for i in range(count):
            if len(kept) == k:
                break
            if overlap is None or not overlap[i, kept].any():
                kept.append(i)
        kept += [i for i in range(count) if i not in kept][:k - len(kept)]
        kept += kept[-1:] * (k - len(kept))
        spans.append(top_moments[b, kept].round().long() - torch.tensor([0, 1]))
        kept_scores.append(scores[b, kept].exp())
    return dict(spans=torch.stack(spans), scores=torch.stack(kept_scores),
                start_prob=masked_log_softmax(start_logits, mask).exp(),
                end_prob=masked_log_softmax(end_logits, mask).exp())
