"""Semantic conditioned dynamic modulation (SCDM; Yuan, Ma, Wang, Liu, Zhu, "Semantic Conditioned
Dynamic Modulation for Temporal Sentence Grounding in Videos", NeurIPS 2019)."""
import torch
import torch.nn as nn


class SemanticConditionedModulation(nn.Module):
    """Modulate temporal features with sentence information chosen by each position.

    For the feature ``f_t`` at position ``t``: attention weights over the words
    ``a_tn = softmax_n(w^T tanh(W_v f_t + W_s s_n + b))`` (padding excluded), the attended
    sentence vector ``c_t = sum_n a_tn s_n``, and ``gamma_t = tanh(W_g c_t + b_g)``,
    ``beta_t = tanh(W_b c_t + b_b)``. The output is ``gamma_t * (f_t - mu) / sigma + beta_t``,
    with ``mu`` and ``sigma`` the mean and standard deviation of each channel over the
    positions of the sequence.

    Args:
        channels: Channels ``C`` of the temporal features.
        word_dim: Size ``H`` of the word features.
        attn_dim: Size of the attention's hidden layer.
        eps: Added to ``sigma``.
    """

    def __init__(self, channels: int, word_dim: int, attn_dim: int = 128,
                 eps: float = 1e-5) -> None:
        super().__init__()
        self.feat_proj = nn.Linear(channels, attn_dim)
        self.word_proj = nn.Linear(word_dim, attn_dim, bias=False)
        self.attn_score = nn.Linear(attn_dim, 1, bias=False)
        self.gamma = nn.Linear(word_dim, channels)
        self.beta = nn.Linear(word_dim, channels)
        self.eps = eps

    def forward(self, feats: torch.Tensor, words: torch.Tensor,
                word_mask: torch.Tensor) -> torch.Tensor:
        """Modulate ``feats`` ``[B, C, T]`` with ``words`` ``[B, N, H]`` (``word_mask``
        ``[B, N]``); returns ``[B, C, T]``."""
        hidden = torch.tanh(self.feat_proj(feats.transpose(1, 2))[:, :, None] +
                            self.word_proj(words)[:, None])
        logits = self.attn_score(hidden).squeeze(-1)
        attn = logits.masked_fill(word_mask[:, None] == 0,
                                   torch.finfo(logits.dtype).min).softmax(-1)
        context = torch.bmm(attn, words)
        gamma = torch.tanh(self.gamma(context)).transpose(1, 2)
        beta = torch.tanh(self.beta(context)).transpose(1, 2)
        mean = feats.mean(-1, keepdim=True)
        std = feats.var(-1, unbiased=False, keepdim=True).add(self.eps).sqrt()
        return gamma * (feats - mean) / std + beta
