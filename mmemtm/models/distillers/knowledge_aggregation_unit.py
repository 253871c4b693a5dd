"""Teacher aggregation: the Knowledge Aggregation Unit (KAU), a plain average and fixed weights
fitted on held-out curves."""
from typing import Sequence, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule


class FrozenBatchNorm(nn.Module):
    """The reference's Keras BatchNorm, left in inference mode: ``gamma * x / sqrt(1 + eps) + beta``.

    The reference never updates the moving statistics (mean 0, variance 1), so each of its BN
    layers is a learned per-channel scale and shift. Input ``[B, C, ...]``.
    """

    def __init__(self, channels: int, eps: float = 1e-3) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1, ) * (x.dim() - 2)
        return x * (self.weight / (1 + self.eps)**0.5).view(shape) + self.bias.view(shape)


class MaskedInstanceNorm(nn.Module):
    """Per-sample, per-channel normalisation over the valid clips only, with a learned affine map.

    ``y = gamma * (x - mean) / sqrt(var + eps) + beta`` with the mean and (biased) variance of each
    sample's channel taken over its valid clips, so a sample's output depends neither on the rest
    of its batch nor on its padding, and a batch of one works. Padded clips come out as zero.
    Input ``[B, C, L]`` and mask ``[B, L]``.
    """

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        mask = mask[:, None, :].to(x.dtype)
        count = mask.sum(-1, keepdim=True).clamp(min=1)
        mean = (x * mask).sum(-1, keepdim=True) / count
        var = ((x - mean).square() * mask).sum(-1, keepdim=True) / count
        y = (x - mean) / (var + self.eps).sqrt()
        return (y * self.weight[:, None] + self.bias[:, None]) * mask


#: Normalisations of the KAU (``norm``): clip features, query gate.
NORM_MODES = ('masked', 'frozen')


def _clip_norm(channels: int, mode: str) -> nn.Module:
    if mode == 'masked':
        return MaskedInstanceNorm(channels)
    if mode == 'frozen':
        return FrozenBatchNorm(channels)
    raise ValueError(f'norm must be one of {NORM_MODES}, got {mode!r}')


def _gate_norm(channels: int, mode: str) -> nn.Module:
    return nn.LayerNorm(channels) if mode == 'masked' else FrozenBatchNorm(channels)


@MODELS.register_module()
class KnowledgeAggregationUnit(BaseModule):
    """Per-sample weights of each teacher's start and end curves (docs/method.md §3.7).

    Multi-scale convolutions over the encoded video, gated by a global query vector, are averaged
    over channels into one value per clip; a dense layer over the (fixed-length) time axis and one
    linear head per teacher give scores, soft-maxed over the teachers separately for start and end.

    Args:
        dim: Feature size ``D`` of the encoded video and query.
        max_vlen: Clip grid length ``L`` (the time-axis dense layer needs it fixed).
        num_teachers: Number of teachers ``T``.
        channels: Channels of each convolution and of the query gate (16).
        kernel_sizes: Kernel sizes of the multi-scale convolutions.
        hidden: Width of the time-axis dense layer (32).
        norm: ``'masked'`` (default): each sample's clip features are normalised per channel
            over its valid clips (:class:`MaskedInstanceNorm`) and its query gate over its
            channels (LayerNorm), so weights never depend on the rest of the batch or on
            padding and a batch of one trains; ``'frozen'``: the reference's never-updated
            BatchNorm, a learned scale and shift (:class:`FrozenBatchNorm`). Training-mode
            BatchNorm is not offered: it fails on a batch of one, couples the samples of a
            batch and counts padded clips in its statistics.
        masked_query_pool: Max-pool only real words (default); False pools padding too, like the
            reference.
        init_cfg: Initialisation config.
    """

    def __init__(self, dim: int, max_vlen: int, num_teachers: int, channels: int = 16,
                 kernel_sizes: Sequence[int] = (3, 5, 7), hidden: int = 32, norm: str = 'masked',
                 masked_query_pool: bool = True, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.max_vlen = max_vlen
        self.num_teachers = num_teachers
        self.masked_query_pool = masked_query_pool
        self.convs = nn.ModuleList(
            nn.Conv1d(dim, channels, k, padding=k // 2) for k in kernel_sizes)
        self.conv_norms = nn.ModuleList(_clip_norm(channels, norm) for _ in kernel_sizes)
        self.query_gate = nn.Sequential(nn.Linear(dim, channels), _gate_norm(channels, norm),
                                        nn.ReLU())
        self.norm = norm
        self.time_dense = nn.Sequential(nn.Linear(max_vlen, hidden), nn.ReLU())
        self.teacher_heads = nn.ModuleList(nn.Linear(hidden, 2) for _ in range(num_teachers))

    def forward(self, video: torch.Tensor, query: torch.Tensor, video_mask: torch.Tensor,
                word_mask: torch.Tensor) -> torch.Tensor:
        """Teacher weights.

        Args:
            video: Encoded video ``[B, L, D]``.
            query: Encoded query ``[B, N, D]``.
            video_mask: ``[B, L]`` valid clips.
            word_mask: ``[B, N]`` real words.

        Returns:
            torch.Tensor: ``[B, T, 2]`` weights (``[:, i, 0]`` start, ``[:, i, 1]`` end of teacher
            ``i``); they sum to 1 over the teachers.
        """
        if video.shape[1] != self.max_vlen:
            raise ValueError(f'the KAU needs videos padded to max_vlen={self.max_vlen}, got '
                             f'{video.shape[1]} clips')
        x = (video * video_mask[..., None]).transpose(1, 2)
        local = sum(self._local(conv, norm, x, video_mask)
                    for conv, norm in zip(self.convs, self.conv_norms))
        if self.masked_query_pool:
            query = query.masked_fill(word_mask[..., None] == 0, float('-inf'))
        gate = self.query_gate(query.max(dim=1).values)
        per_clip = (local * gate[..., None]).mean(dim=1) * video_mask
        hidden = self.time_dense(per_clip)
        scores = torch.stack([head(hidden) for head in self.teacher_heads], dim=1)
        return scores.softmax(dim=1)

    def _local(self, conv: nn.Module, norm: nn.Module, x: torch.Tensor,
               video_mask: torch.Tensor) -> torch.Tensor:
        """One scale of the multi-scale convolutions: ``[B, D, L]`` -> ``[B, C, L]``."""
        y = conv(x)
        y = norm(y, video_mask) if isinstance(norm, MaskedInstanceNorm) else norm(y)
        return torch.relu(y)


@MODELS.register_module()
class AverageTeacherAggregator(nn.Module):
    """Equal weights ``1 / T`` for every teacher: the "plain average" ablation of the KAU.

    Args:
        num_teachers: Number of teachers ``T``.
    """

    def __init__(self, num_teachers: int) -> None:
        super().__init__()
        self.num_teachers = num_teachers

    def forward(self, video: torch.Tensor, query: torch.Tensor, video_mask: torch.Tensor,
                word_mask: torch.Tensor) -> torch.Tensor:
        """``[B, T, 2]`` weights, all ``1 / T`` (inputs as :class:`KnowledgeAggregationUnit`)."""
        return video.new_full((video.shape[0], self.num_teachers, 2), 1.0 / self.num_teachers)


@MODELS.register_module()
class FixedTeacherWeights(nn.Module):
    """The same teacher weights for every query, e.g. fitted on the teachers' curves of a split
    none of them trained on (:func:`fit_mixture_weights` on val curves), where a teacher that
    memorised its training split cannot look better than it is.

    Args:
        num_teachers: Number of teachers ``T``.
        weights: ``[T]`` (start and end alike) or ``[T, 2]`` (start, end) non-negative weights;
            each side is normalised to sum to 1.
    """

    def __init__(self, num_teachers: int,
                 weights: Sequence[Union[float, Sequence[float]]]) -> None:
        super().__init__()
        table = torch.as_tensor(weights, dtype=torch.float32)
        if table.dim() == 1:
            table = table[:, None].expand(-1, 2)
        if table.shape != (num_teachers, 2):
            raise ValueError(f'FixedTeacherWeights: weights of shape {tuple(table.shape)} for '
                             f'{num_teachers} teachers (expected [{num_teachers}] or '
                             f'[{num_teachers}, 2])')
        if not torch.isfinite(table).all() or (table < 0).any() or (table.sum(0) <= 0).any():
            raise ValueError('FixedTeacherWeights: weights must be finite, non-negative and '
                             f'not all zero on a side, got {table.tolist()}')
        self.num_teachers = num_teachers
        self.register_buffer('weights', table / table.sum(0, keepdim=True))

    def forward(self, video: torch.Tensor, query: torch.Tensor, video_mask: torch.Tensor,
                word_mask: torch.Tensor) -> torch.Tensor:
        """``[B, T, 2]``: the fixed weights for every query (inputs as
        :class:`KnowledgeAggregationUnit`)."""
        return self.weights.to(video.dtype).expand(video.shape[0], -1, -1)


def fit_mixture_weights(curves: torch.Tensor, labels: torch.Tensor, iters: int = 500,
                        tol: float = 1e-9) -> torch.Tensor:
    """Teacher weights maximising the soft-label log-likelihood of the mixture, per side.

    Maximises ``sum_n sum_l y[n, s, l] * log(sum_t w[t, s] * p[n, t, s, l])`` over the simplex for
    each side ``s`` (start, end) by expectation-maximisation, which never decreases it: the loss
    the KAU minimises, with one weight per teacher instead of one per query.

    Args:
        curves: ``[N, T, 2, L]`` teacher curves, each a distribution over its query's valid
            clips (zero-padded).
        labels: ``[N, 2, L]`` soft start/end labels of the ground truth (zero-padded).
        iters: Most EM steps.
        tol: Stop when no weight moves more than this.

    Returns:
        torch.Tensor: ``[T, 2]`` weights, each column summing to 1.
    """
    if curves.dim() != 4 or labels.shape != (curves.shape[0], *curves.shape[2:]):
        raise ValueError(f'curves [N, T, 2, L] and labels [N, 2, L] expected, got '
                         f'{tuple(curves.shape)} and {tuple(labels.shape)}')
    curves, labels = curves.double(), labels.double()
    weights = curves.new_full(curves.shape[1:3], 1.0 / curves.shape[1])
    for _ in range(iters):
        parts = weights[None, :, :, None] * curves  # [N, T, 2, L]
        resp = parts / parts.sum(1, keepdim=True).clamp(min=1e-300)
        updated = (resp * labels[:, None]).sum((0, 3))
        updated = updated / updated.sum(0, keepdim=True)
        done = (updated - weights).abs().max() < tol
        weights = updated
        if done:
            break
    return weights.float()


def aggregate_curves(weights: torch.Tensor, curves: torch.Tensor) -> torch.Tensor:
    """Weighted sum of teacher curves.

    Args:
        weights: ``[B, T, 2]`` teacher weights for start and end.
        curves: ``[B, T, 2, L]`` teacher start/end curves.

    Returns:
        torch.Tensor: ``[B, 2, L]`` integrated start and end soft labels.
    """
    if weights.shape[:2] != curves.shape[:2]:
        raise ValueError(f'{weights.shape[1]} teacher weights for {curves.shape[1]} teachers')
    return (weights[..., None] * curves).sum(dim=1)
