"""A weakly-supervised grounder of the Gaussian-proposal family, our reading of CPL (Zheng et al.,
"Weakly Supervised Temporal Sentence Grounding with Gaussian-based Contrastive Proposal
Learning", CVPR 2022), written for mmemtm (``docs/weakly_supervised.md``).

Trained from video-sentence pairs only: ``K`` learnable proposals (centre, width as fractions of
the video) are judged by how well the sentence's masked words can be reconstructed from the clips
each proposal's Gaussian weights, against the whole video and against the proposal's complement.
"""
from typing import Dict, List, NamedTuple, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS

from mmemtm.structures import GroundingDataSample
from ..layers.packed_attention import PackedMultiheadAttention, PackedTransformerEncoderLayer
from ..utils.decoding import moment_iou
from ..utils import build_part
from ..utils.decoding import fractions_to_clip_spans, topk_moments
from .weak_base import WeaklySupervisedGrounder

#: How proposals are ranked at inference: by their reconstruction loss, or by their summed IoU
#: with the other proposals (CPL's "vote").
RANKINGS = ('reconstruction', 'vote')
#: Floor of the complement weights ``1 - g`` before the log (a weight of exactly 0 would make
#: the attention of a word to every clip impossible).
_WEIGHT_FLOOR = 1e-4


class WeakOutputs(NamedTuple):
    """A forward pass of :class:`WeakGaussianGrounder` (``B`` queries, ``K`` proposals, ``L``
    clips of the batch grid).

    Attributes:
        centres: ``[B, K]`` proposal centres, fractions of the video.
        widths: ``[B, K]`` proposal widths, fractions of the video.
        rec_pos: ``[B, K]`` masked-word reconstruction loss (nats per masked word) from each
            proposal's Gaussian weights.
        rec_neg: ``[B]`` the same from the complement ``1 - g`` of the best proposal (the
            lowest ``rec_pos``); ``[B, 0]`` when not computed.
        rec_ref: ``[B]`` the same from the whole video; ``[B, 0]`` when not computed.
        gauss: ``[B, K, L]`` the proposals' Gaussian weights on the clips (0 on padding).
    """
    centres: torch.Tensor
    widths: torch.Tensor
    rec_pos: torch.Tensor
    rec_neg: torch.Tensor
    rec_ref: torch.Tensor
    gauss: torch.Tensor


def proposal_moments(centres: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
    """``[..., 2]`` (start, end) fractions of proposals ``centres``, ``widths`` ``[...]``,
    clipped to the video."""
    return torch.stack([(centres - widths / 2).clamp(0.0, 1.0),
                        (centres + widths / 2).clamp(0.0, 1.0)], dim=-1)


def clip_positions(video_mask: torch.Tensor) -> torch.Tensor:
    """``[B, L]`` centre of each clip as a fraction of its video, ``(i + 0.5) / v_len``."""
    v_len = video_mask.sum(1, keepdim=True).clamp(min=1)
    return (torch.arange(video_mask.shape[1], device=video_mask.device)[None] + 0.5) / v_len


def masked_distribution(weights: torch.Tensor, mask: torch.Tensor,
                        eps: float = 1e-8) -> torch.Tensor:
    """``weights`` ``[B, L]`` (non-negative) normalised over the valid clips (``mask`` 1)."""
    weights = weights * mask
    return weights / weights.sum(-1, keepdim=True).clamp(min=eps)


@MODELS.register_module()
class WeakGaussianGrounder(WeaklySupervisedGrounder):
    """CPL-style Gaussian proposals trained by masked-word reconstruction (no timestamps).

    Pipeline (``B`` queries, ``L`` clips, ``N`` words, ``H`` channels, ``K`` proposals, ``V``
    words of the vocabulary):

    1. clips ``[B, L, D]`` -> ``[B, L, H]`` (linear, ReLU, learned positions); the sentence
       (BiGRU over frozen GloVe) gives words ``[B, N, H]``; each clip attends to the words and a
       Transformer layer mixes the clips;
    2. ``K`` learned queries attend to the clips and give centres and widths ``[B, K]``
       (sigmoids, with learned per-proposal biases that start spread over the video: fractions
       of the video; widths at least ``min_width``); proposal ``k`` weighs clip ``t``
       (position ``p_t``, a fraction) by ``g_k(t) = exp(-(p_t - c_k)^2 / (2 (w_k / sigma)^2))``;
    3. a third of the words (at least one) are masked; the reconstructor reads the masked
       sentence (a Transformer layer over the word vectors), attends to the clips with the log of
       a weighting added to its attention logits, and predicts the masked words ``[.., N, V]``.
       Weightings: each proposal ``g_k``; in training also the best proposal's complement
       ``1 - g_k*`` and the whole video (1).

    Losses (per query; ``k*`` the proposal that reconstructs best, chosen without gradient):
    ``loss_rec = rec_pos[k*] + ref_rec_weight * rec_ref``; ``loss_ivc = relu(rec_pos[k*] -
    rec_ref + margins[0]) + relu(rec_pos[k*] - rec_neg + margins[1])`` (intra-video
    contrast: the proposal must explain the sentence better than the whole video and than the
    rest of the video), times ``ivc_weight``.

    Inference: the ``K`` proposals as moments, scored by ``softmax(-rec_pos / score_temperature)``
    (``rank_by='reconstruction'``, words masked at fixed positions: every third word from the
    second) or by their summed IoU with the others (``'vote'``), top ``topk`` after NMS. The
    semantic activation map (:meth:`activation_map`) is the proposal-score-weighted mixture of the
    Gaussians, a distribution over the clips.

    Args:
        vocab: GloVe subset folder or text file (the pipeline's vocabulary; also the words to
            reconstruct).
        video_dim: Clip feature size ``D`` (the sum of the input streams' sizes).
        hidden_dim: Channels ``H``.
        num_proposals: Proposals ``K``.
        num_heads: Attention heads.
        max_vlen: Rows of the clip position table.
        max_words: Rows of the word position table.
        sigma: Sharpness of the Gaussians (CPL: the width spans ``sigma`` standard deviations).
        min_width: Smallest proposal width (fraction of the video): widths are
            ``min_width + (1 - min_width) * sigmoid``. 0 is CPL's; on CLIP bins, where one bin
            tells the scene, widths collapse without a floor (``docs/weakly_supervised.md``).
        mask_ratio: Share of the words masked for reconstruction.
        margins: Margins of the intra-video contrast (against the whole video, the complement).
        ivc_weight: Weight of ``loss_ivc``.
        ref_rec_weight: Weight of the whole video's reconstruction in ``loss_rec``.
        rank_by: One of :data:`RANKINGS`.
        score_temperature: Temperature of the proposal scores (nats).
        dropout: Dropout of the clip projection and the word vectors (the attention layers
            have none: it was an eighth of the CPU time).
        sentence_encoder: Config of the sentence encoder (``GloveRNNSentenceEncoder``).
        input_streams: Names of the feature streams received (see
            :class:`WeaklySupervisedGrounder`).
        topk: Moments returned by :meth:`predict_spans`.
        nms_thr: IoU above which a lower-ranked proposal is suppressed.
        data_preprocessor: Config of the data preprocessor.
        init_cfg: Initialisation config.
    """

    def __init__(self, vocab: str, video_dim: int = 768, hidden_dim: int = 128,
                 num_proposals: int = 8, num_heads: int = 4, max_vlen: int = 64,
                 max_words: int = 64,
                 sigma: float = 9.0, min_width: float = 0.0, mask_ratio: float = 1 / 3,
                 margins: tuple = (0.1, 0.15), ivc_weight: float = 1.0,
                 ref_rec_weight: float = 1.0, rank_by: str = 'reconstruction',
                 score_temperature: float = 0.1, dropout: float = 0.1,
                 sentence_encoder: dict = dict(type='GloveRNNSentenceEncoder', rnn_type='gru'),
                 input_streams: tuple = ('appearance', ), topk: int = 5,
                 nms_thr: Optional[float] = 0.5, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(input_streams=input_streams, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if rank_by not in RANKINGS:
            raise ValueError(f'rank_by must be one of {RANKINGS}, got {rank_by!r}')
        if not 0 < mask_ratio < 1:
            raise ValueError(f'mask_ratio must lie in (0, 1), got {mask_ratio}')
        if not 0 <= min_width < 1:
            raise ValueError(f'min_width must lie in [0, 1), got {min_width}')
        if topk > num_proposals:
            raise ValueError(f'topk={topk} exceeds num_proposals={num_proposals}')
        self.video_dim, self.num_proposals, self.sigma = video_dim, num_proposals, sigma
        self.min_width = min_width
        self.mask_ratio, self.margins = mask_ratio, tuple(margins)
        self.ivc_weight, self.ref_rec_weight = ivc_weight, ref_rec_weight
        self.rank_by, self.score_temperature = rank_by, score_temperature
        self.topk, self.nms_thr = topk, nms_thr
        self.video_proj = nn.Sequential(nn.Linear(video_dim, hidden_dim), nn.ReLU(),
                                        nn.Dropout(dropout))
        self.clip_pos = nn.Parameter(torch.randn(max_vlen, hidden_dim) * 0.02)
        self.sentence_encoder = build_part(
            sentence_encoder, dict(vocab=vocab, hidden_dim=hidden_dim, dropout=dropout),
            'sentence_encoder')
        self.clip_to_words = PackedMultiheadAttention(hidden_dim, num_heads)
        self.clip_mixer = PackedTransformerEncoderLayer(hidden_dim, num_heads, 2 * hidden_dim)
        self.proposal_queries = nn.Parameter(torch.randn(num_proposals, hidden_dim) * 0.02)
        self.proposal_attn = PackedMultiheadAttention(hidden_dim, num_heads)
        self.proposal_head = nn.Sequential(nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
                                           nn.Linear(hidden_dim, 2))
        # Proposals start spread over the video (centres (k + 0.5) / K, width 1 / 4) instead of
        # all at its middle, where identical queries would keep them together.
        centres = (torch.arange(num_proposals) + 0.5) / num_proposals
        self.proposal_bias = nn.Parameter(torch.logit(torch.stack(
            [centres, torch.full_like(centres, 0.25)], dim=-1)))
        glove = self.sentence_encoder.glove
        self.mask_vector = nn.Parameter(torch.zeros(glove.shape[1]))
        self.word_proj = nn.Linear(glove.shape[1], hidden_dim)
        self.word_pos = nn.Parameter(torch.randn(max_words, hidden_dim) * 0.02)
        self.word_mixer = PackedTransformerEncoderLayer(hidden_dim, num_heads, 2 * hidden_dim)
        self.rec_query = nn.Linear(hidden_dim, hidden_dim)
        self.rec_key = nn.Linear(hidden_dim, hidden_dim)
        self.rec_value = nn.Linear(hidden_dim, hidden_dim)
        self.rec_norm = nn.LayerNorm(hidden_dim)
        self.rec_ffn = nn.Sequential(nn.Linear(hidden_dim, 2 * hidden_dim), nn.ReLU(),
                                     nn.Linear(2 * hidden_dim, hidden_dim))
        self.word_out = nn.Linear(hidden_dim, glove.shape[0])

    # -- parts -----------------------------------------------------------------------------------
    def encode_clips(self, video: torch.Tensor, video_mask: torch.Tensor, words: torch.Tensor,
                     word_mask: torch.Tensor) -> torch.Tensor:
        """Sentence-aware clips ``[B, L, H]`` from clips ``[B, L, D]`` and words ``[B, N]``."""
        if video.shape[-1] != self.video_dim:
            raise ValueError(f'{type(self).__name__} takes clip features of size '
                             f'{self.video_dim} (streams {list(self.input_streams)}), got '
                             f'{video.shape[-1]}')
        if video.shape[1] > len(self.clip_pos) or words.shape[1] > len(self.word_pos):
            raise ValueError(f'{video.shape[1]} clips and {words.shape[1]} words exceed the '
                             f'position tables ({len(self.clip_pos)} clips: max_vlen, '
                             f'{len(self.word_pos)} words: max_words)')
        clips = self.video_proj(video) + self.clip_pos[:video.shape[1]]
        word_feats, _ = self.sentence_encoder(words, word_mask)
        attended, _ = self.clip_to_words(clips, word_feats, word_feats,
                                         key_padding_mask=word_mask == 0)
        return self.clip_mixer(clips + attended, src_key_padding_mask=video_mask == 0)

    def proposals(self, clips: torch.Tensor,
                  video_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Centres and widths ``[B, K]`` (fractions of the video) from clips ``[B, L, H]``."""
        queries = self.proposal_queries.expand(clips.shape[0], -1, -1)
        pooled, _ = self.proposal_attn(queries, clips, clips, key_padding_mask=video_mask == 0)
        centre, width = torch.sigmoid(self.proposal_head(pooled) + self.proposal_bias).unbind(-1)
        return centre, self.min_width + (1 - self.min_width) * width

    def gaussian_log_weights(self, centres: torch.Tensor, widths: torch.Tensor,
                             video_mask: torch.Tensor) -> torch.Tensor:
        """``[B, K, L]`` log of each proposal's Gaussian weight of each clip."""
        pos = clip_positions(video_mask)[:, None]
        std = (widths[..., None] / self.sigma).clamp(min=1e-3)
        return -(pos - centres[..., None])**2 / (2 * std**2)

    def word_masks(self, word_mask: torch.Tensor) -> torch.Tensor:
        """``[B, N]`` bool, the words to reconstruct: a random ``mask_ratio`` of each query's
        words in training, every third word from the second in eval mode; at least one."""
        valid = word_mask > 0
        if self.training:
            draw = torch.rand(word_mask.shape, device=word_mask.device)
            chosen = (draw < self.mask_ratio) & valid
        else:
            pos = torch.arange(word_mask.shape[1], device=word_mask.device)[None]
            chosen = (pos % 3 == 1) & valid
        first = valid & (valid.long().cumsum(1) == 1)
        return chosen | (first & ~chosen.any(1, keepdim=True))

    def reconstruction_losses(self, clips: torch.Tensor, video_mask: torch.Tensor,
                              words: torch.Tensor, word_mask: torch.Tensor,
                              masked: torch.Tensor, log_weights: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy (nats) of the masked words ``[B, P]`` from each of ``P`` clip
        weightings ``log_weights`` ``[B, P, L]`` (log of non-negative weights). In training only
        the masked positions (``M`` at most per query) go through the reconstructor's clip
        attention; in eval mode all ``N`` do, the others weighted 0 (the same losses)."""
        embed = self.sentence_encoder.embed(words)
        embed = torch.where(masked[..., None], self.mask_vector.expand_as(embed), embed)
        text = self.word_proj(embed) + self.word_pos[:words.shape[1]]
        text = self.word_mixer(text, src_key_padding_mask=word_mask == 0)  # [B, N, H]
        if self.training:  # only the masked positions: a third of the work
            order = torch.argsort((~masked).long(), dim=1, stable=True)
            slots = order[:, :int(masked.sum(1).max())]  # [B, M] the masked positions first
        else:  # every position, the others weighted 0 (a graph ONNX can express)
            slots = torch.arange(words.shape[1], device=words.device).expand_as(words)
        slot_mask = torch.gather(masked, 1, slots).float()
        text = torch.gather(text, 1, slots[..., None].expand(-1, -1, text.shape[-1]))
        query, key, value = self.rec_query(text), self.rec_key(clips), self.rec_value(clips)
        logits = torch.einsum('bmh,blh->bml', query, key) / query.shape[-1]**0.5
        logits = logits[:, None] + log_weights[:, :, None]  # [B, P, M, L]
        logits = logits.masked_fill(video_mask[:, None, None] == 0, float('-inf'))
        context = torch.einsum('bpml,blh->bpmh', logits.softmax(-1), value)
        hidden = self.rec_norm(text[:, None] + context)
        hidden = hidden + self.rec_ffn(hidden)
        word_logits = self.word_out(hidden)  # [B, P, M, V]
        targets = torch.gather(words, 1, slots)[:, None].expand(-1, word_logits.shape[1], -1)
        nll = F.cross_entropy(word_logits.flatten(0, 2), targets.flatten(),
                              reduction='none').view(targets.shape)
        return (nll * slot_mask[:, None]).sum(-1) / slot_mask.sum(-1, keepdim=True).clamp(min=1)

    def outputs(self, inputs: Dict[str, torch.Tensor],
                masked: Optional[torch.Tensor] = None, negatives: bool = True) -> WeakOutputs:
        """A forward pass (:class:`WeakOutputs`); ``masked`` ``[B, N]`` bool: the words to
        reconstruct (default :meth:`word_masks`). The complement and the whole video are
        reconstructed for the best proposal only, and only with ``negatives`` (training):
        without, ``rec_neg`` and ``rec_ref`` are empty."""
        video, video_mask = inputs['video'], inputs['video_mask']
        words, word_mask = inputs['words'], inputs['word_mask']
        if masked is None:
            masked = self.word_masks(word_mask)
        clips = self.encode_clips(video, video_mask, words, word_mask)
        centres, widths = self.proposals(clips, video_mask)
        log_gauss = self.gaussian_log_weights(centres, widths, video_mask)
        gauss = log_gauss.exp()
        rec_pos = self.reconstruction_losses(clips, video_mask, words, word_mask, masked,
                                             log_gauss)
        rec_neg = rec_ref = rec_pos.new_zeros(len(rec_pos), 0)
        if negatives:
            best = rec_pos.detach().argmin(1)
            chosen = gauss[torch.arange(len(best), device=best.device), best]
            complement = torch.log((1 - chosen).clamp(min=_WEIGHT_FLOOR))
            rec = self.reconstruction_losses(
                clips, video_mask, words, word_mask, masked,
                torch.stack([complement, torch.zeros_like(complement)], dim=1))
            rec_neg, rec_ref = rec[:, 0], rec[:, 1]
        return WeakOutputs(centres, widths, rec_pos, rec_neg, rec_ref, gauss * video_mask[:, None])

    # -- losses ----------------------------------------------------------------------------------
    def weak_losses(self, out: WeakOutputs) -> Dict[str, torch.Tensor]:
        """``loss_rec`` and ``loss_ivc`` of a forward pass (means over the batch)."""
        pos = out.rec_pos.gather(1, out.rec_pos.detach().argmin(1, keepdim=True))[:, 0]
        ivc = (F.relu(pos - out.rec_ref + self.margins[0])
               + F.relu(pos - out.rec_neg + self.margins[1]))
        return dict(loss_rec=(pos + self.ref_rec_weight * out.rec_ref).mean(),
                    loss_ivc=self.ivc_weight * ivc.mean())

    def loss(self, inputs: Dict[str, torch.Tensor],
             data_samples: Optional[List[GroundingDataSample]]) -> Dict[str, torch.Tensor]:
        """:meth:`weak_losses` of a batch of video-sentence pairs (no timestamps)."""
        return self.weak_losses(self.outputs(inputs))

    # -- knowledge and inference ------------------------------------------------------------------
    def proposal_scores(self, out: WeakOutputs) -> torch.Tensor:
        """``[B, K]`` scores of the proposals (``rank_by``), summing to 1 per query."""
        if self.rank_by == 'reconstruction':
            return torch.softmax(-out.rec_pos / self.score_temperature, dim=1)
        moments = proposal_moments(out.centres, out.widths)
        votes = moment_iou(moments, moments).sum(-1)
        return votes / votes.sum(1, keepdim=True).clamp(min=1e-8)

    def activation_map(self, out: WeakOutputs, video_mask: torch.Tensor) -> torch.Tensor:
        """``[B, L]`` semantic activation map: the proposal-score-weighted Gaussians,
        normalised over the valid clips."""
        scores = self.proposal_scores(out)
        return masked_distribution((scores[..., None] * out.gauss).sum(1), video_mask)

    def scored_proposals(self, inputs: Dict[str, torch.Tensor]
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
        """All ``K`` proposals: moments ``[B, K, 2]`` (fractions) and scores ``[B, K]``."""
        out = self.outputs(inputs, negatives=False)
        return proposal_moments(out.centres, out.widths), self.proposal_scores(out)

    def predict_spans(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Top-``k`` proposals after NMS as inclusive clip spans ``[B, k, 2]`` of the batch grid
        with their ``scores`` ``[B, k]``."""
        moments, scores = self.scored_proposals(inputs)
        moments, scores = topk_moments(moments, scores, self.topk, self.nms_thr)
        return dict(spans=fractions_to_clip_spans(moments, inputs['video_mask'].sum(1)),
                    scores=scores)
