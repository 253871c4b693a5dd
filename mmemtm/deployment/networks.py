"""Export-friendly forward passes of mmemtm's grounders: tensors in, network outputs out.

ONNX graphs hold the networks only; decoding (top-k spans, temporal NMS) runs outside, with the
same functions as the PyTorch models (:mod:`mmemtm.models.utils.decoding`). Every network takes
the five batch tensors of :class:`GroundingDataPreprocessor` (``B`` queries, ``Bv`` videos with
``Bv`` 1 or ``B``, ``L = max_vlen`` clips, ``N`` words, ``C`` letters):

``video [Bv, L, Dv]`` float32, ``video_mask [Bv, L]`` float32, ``words [B, N]`` int64,
``chars [B, N, C]`` int64, ``word_mask [B, N]`` float32.

A batch of one video (``Bv = 1``) with ``B`` queries is answered for every query; the EMTM
student encodes that video once (its video encoding does not depend on the query).

Kinds of output (:data:`OUTPUTS`):

* ``span`` (EMTM's student, SeqPAN): ``start_logits``, ``end_logits`` ``[B, L]``;
* ``proposals`` (SCDM, the weakly-supervised Gaussian-proposal grounders and their distilled
  students): ``scores`` ``[B, M]`` (overlap probabilities of the ``M`` anchors; proposal scores)
  and ``moments`` ``[B, M, 2]`` (refined anchors; proposals; fractions of the video);
* ``map2d`` (2D-TAN): ``score_map`` ``[B, T, T]`` (sigmoid scores, :data:`NEG_INF` outside the
  candidates), ``grid_len`` ``[B]`` (valid cells) and the sentence encoder's ``word_features``
  ``[B, N, H]``, unused by decoding: without a consumer of the packed LSTM's output the
  TorchScript exporter fails.
"""
from typing import Dict, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmemtm.models.distillers import EMTM
from mmemtm.models.grounders import BaseGrounder, WeakGaussianGrounder
from mmemtm.models.layers.map2d_layers import sparse_span_mask
from mmemtm.models.teachers import SCDMGrounder, SeqPANGrounder, TAN2DGrounder
from mmemtm.models.teachers.anchors import decode_offsets
from mmemtm.models.teachers.clip_grid import pool_clips_to_grid
from mmemtm.models.utils import NEG_INF

#: Names of the graph inputs, in order.
INPUTS = ('video', 'video_mask', 'words', 'chars', 'word_mask')
#: Names of the graph outputs of each kind of network.
OUTPUTS = {
    'span': ('start_logits', 'end_logits'),
    'proposals': ('scores', 'moments'),
    'map2d': ('score_map', 'grid_len', 'word_features'),
}


def _inputs(video: torch.Tensor, video_mask: torch.Tensor, words: torch.Tensor,
            chars: torch.Tensor, word_mask: torch.Tensor) -> Dict[str, torch.Tensor]:
    """The batch dict with the video repeated for every query (``Bv = 1``) or as given."""
    batch = words.shape[0]
    return dict(video=video.expand(batch, -1, -1), video_mask=video_mask.expand(batch, -1),
                words=words, chars=chars, word_mask=word_mask)


class StudentNetwork(nn.Module):
    """EMTM's inference network: shared encoder + student head -> start/end logits ``[B, L]``.

    The video is encoded once per video of the batch and broadcast to the queries.
    """
    kind = 'span'
    #: The batch size may change at run time.
    dynamic_batch = True

    def __init__(self, model: EMTM) -> None:
        super().__init__()
        self.encoder = model.encoder
        self.student = model.student

    def forward(self, video: torch.Tensor, video_mask: torch.Tensor, words: torch.Tensor,
                chars: torch.Tensor, word_mask: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        batch = words.shape[0]
        encoded = self.encoder.encode_video(video, video_mask).expand(batch, -1, -1)
        query = self.encoder.encode_query(words, chars, word_mask)
        out = self.student(encoded, query, video_mask.expand(batch, -1), word_mask)
        return out['start_logits'], out['end_logits']


class SpanTeacherNetwork(nn.Module):
    """SeqPAN: encoder, dual attention and head -> start/end logits ``[B, L]``."""
    kind = 'span'
    dynamic_batch = True

    def __init__(self, model: SeqPANGrounder) -> None:
        super().__init__()
        self.model = model

    def forward(self, *tensors: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        out = self.model.head_outputs(_inputs(*tensors))
        return out['start_logits'], out['end_logits']


class ProposalTeacherNetwork(nn.Module):
    """SCDM -> anchor overlap probabilities ``[B, M]`` and refined moments ``[B, M, 2]``.

    Its sentence encoder's trace fixes the batch size, so the graph has batch 1 (the runtime
    runs the queries of a batch one by one).
    """
    kind = 'proposals'
    dynamic_batch = False

    def __init__(self, model: SCDMGrounder) -> None:
        super().__init__()
        self.model = model

    def forward(self, *tensors: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        logits, offsets = self.model.anchor_predictions(_inputs(*tensors))
        return torch.sigmoid(logits), decode_offsets(self.model.anchors, offsets)


class WeakProposalNetwork(nn.Module):
    """A :class:`WeakGaussianGrounder` (or a distilled student, which runs alone) -> proposal
    scores ``[B, K]`` and moments ``[B, K, 2]`` (fractions of the video): the proposals and their
    reconstruction-based scores of :meth:`WeakGaussianGrounder.scored_proposals`, words masked at
    their fixed eval positions. Batch 1, as :class:`ProposalTeacherNetwork` (its sentence
    encoder's trace fixes the batch size)."""
    kind = 'proposals'
    dynamic_batch = False

    def __init__(self, model: WeakGaussianGrounder) -> None:
        super().__init__()
        self.model = model

    def forward(self, *tensors: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        moments, scores = self.model.scored_proposals(_inputs(*tensors))
        return scores, moments


def span_feature_map_gather(feats: torch.Tensor, mode: str = 'max') -> torch.Tensor:
    """:func:`mmemtm.models.layers.map2d_layers.span_feature_map` without indexed assignment
    (which the ONNX exporter cannot convert): the pooled spans of each length are stacked as
    ``[B, C, T, T]`` (start, length - 1) and gathered into (start, end).

    Args:
        feats: ``[B, C, T]`` cell features.
        mode: ``'max'`` or ``'avg'`` pooling over the span's cells.

    Returns:
        torch.Tensor: ``[B, C, T, T]``, entry ``[..., i, j]`` pools cells ``i..j`` for ``i <= j``
        and is 0 for ``j < i``.
    """
    length = feats.shape[-1]
    if mode == 'max':
        pooled, current = [feats], feats
        for offset in range(1, length):
            current = torch.maximum(current[..., :-1], feats[..., offset:])
            pooled.append(F.pad(current, (0, offset)))
    elif mode == 'avg':
        csum = F.pad(feats.cumsum(-1), (1, 0))
        pooled = [F.pad((csum[..., offset + 1:] - csum[..., :length - offset]) / (offset + 1),
                        (0, offset)) for offset in range(length)]
    else:
        raise ValueError(f'mode must be "max" or "avg", got {mode!r}')
    by_length = torch.stack(pooled, dim=-1)
    idx = torch.arange(length, device=feats.device)
    offset = idx[None, :] - idx[:, None]
    out = torch.gather(by_length, -1, offset.clamp(min=0).expand(*feats.shape[:-1], -1, -1))
    return out * (offset >= 0).to(feats.dtype)


class MapTeacherNetwork(nn.Module):
    """2D-TAN -> candidate scores ``[B, T, T]`` (:data:`NEG_INF` outside the candidates) and
    valid cells ``[B]``: :meth:`TAN2DGrounder.score_map` with :func:`span_feature_map_gather`
    and the sparse sampling of the candidates computed once (a constant of the graph). Batch 1,
    as :class:`ProposalTeacherNetwork`."""
    kind = 'map2d'
    dynamic_batch = False

    def __init__(self, model: TAN2DGrounder) -> None:
        super().__init__()
        self.model = model
        self.register_buffer('sampled', sparse_span_mask(model.num_cells, model.num_dense),
                             persistent=False)

    def forward(self, *tensors: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        model, inputs = self.model, _inputs(*tensors)
        cells, grid_len = pool_clips_to_grid(inputs['video'], inputs['video_mask'],
                                             model.num_cells)
        clips = model.video_proj(cells.transpose(1, 2))
        span_feats = span_feature_map_gather(clips, model.pooling)
        words, sentence = model.sentence_encoder(inputs['words'], inputs['word_mask'])
        fused = F.normalize(model.text_proj(sentence)[:, :, None, None] * span_feats, dim=1)
        inside = torch.arange(model.num_cells)[None, :] < grid_len[:, None]
        mask = self.sampled[None] & inside[:, :, None] & inside[:, None, :]
        logits = model.score_head(model.map_convs(fused, mask)).squeeze(1)
        return torch.sigmoid(logits).masked_fill(~mask, NEG_INF), grid_len, words


#: The network of each exportable grounder class.
NETWORKS = {
    EMTM: StudentNetwork,
    SeqPANGrounder: SpanTeacherNetwork,
    SCDMGrounder: ProposalTeacherNetwork,
    TAN2DGrounder: MapTeacherNetwork,
    WeakGaussianGrounder: WeakProposalNetwork,
}


def export_network(model: BaseGrounder) -> nn.Module:
    """The export-friendly network of ``model`` (in eval mode; it shares the model's weights).

    Raises:
        TypeError: No network is defined for the model's class.
    """
    for cls, network in NETWORKS.items():
        if isinstance(model, cls):
            return network(model).eval()
    raise TypeError(f'{type(model).__name__} cannot be exported to ONNX; exportable: '
                    f'{", ".join(cls.__name__ for cls in NETWORKS)}')


def reference_outputs(model: BaseGrounder, inputs: Dict[str, torch.Tensor]
                      ) -> Tuple[torch.Tensor, ...]:
    """Outputs of the model's own PyTorch methods (not the export network) on a batch with one
    video per query, in the order of :data:`OUTPUTS`: what the exported graph must reproduce."""
    with torch.no_grad():
        if isinstance(model, EMTM):
            out, _, _ = model.student_outputs(inputs)
            return out['start_logits'], out['end_logits']
        if isinstance(model, SeqPANGrounder):
            out = model.head_outputs(inputs)
            return out['start_logits'], out['end_logits']
        if isinstance(model, SCDMGrounder):
            logits, offsets = model.anchor_predictions(inputs)
            return torch.sigmoid(logits), decode_offsets(model.anchors, offsets)
        if isinstance(model, TAN2DGrounder):
            scores, mask, grid_len = model.score_map(inputs)
            words, _ = model.sentence_encoder(inputs['words'], inputs['word_mask'])
            return scores.masked_fill(~mask, NEG_INF), grid_len, words
        if isinstance(model, WeakGaussianGrounder):
            moments, scores = model.scored_proposals(inputs)
            return scores, moments
    raise TypeError(f'{type(model).__name__} cannot be exported to ONNX')
