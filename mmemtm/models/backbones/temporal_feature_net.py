"""Temporal backbones over pre-extracted feature sequences, for recognizers that distillers tap.

Input: one clip of pre-extracted features in mmaction's ``NCTHW`` layout, ``[N, C_in, T, 1, 1]``
(:class:`~mmemtm.datasets.transforms.LoadSpanFeatures`). The sequence is layer-normalised,
projected to ``width`` channels and goes through ``num_stages`` stages, the submodules
``stages.0``, ``stages.1``, ... whose outputs ``[N, width, T]`` (channels first) are what the
substage distillers tap (``'backbone.stages.1'``); the output is ``[N, out_channels, T, 1, 1]``,
the 5-D map the attention heads take, after a ReLU: GKD's head rescales the attention-weighted
map to the sum of the map, which needs non-negative features (as after I3D's last ReLU).

A privileged-context input ``[N, C_in, T + C, 1, 1]`` (``LoadSpanFeatures(context_steps=C)``)
holds the span's ``T`` steps followed by ``C`` steps of context: a backbone with
``context_steps=C`` attends over all of them (a learned segment embedding tells span from
context) and taps the span's steps of every stage at ``span_stages.0``, ... (``[N, width,
T]``, the shape of a span-only student's ``stages.i``); with ``read_context=False`` it drops
the context steps first, so it computes exactly what a span-only backbone computes.
"""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule

STAGE_TYPES = ('transformer', 'conv')


class TemporalSelfAttention(nn.Module):
    """Multi-head self-attention over time, written with plain matrix products (so FLOP
    counters see every product): ``[N, T, C]`` -> ``[N, T, C]``."""

    def __init__(self, channels: int, num_heads: int) -> None:
        super().__init__()
        if channels % num_heads:
            raise ValueError(f'channels ({channels}) must be a multiple of num_heads '
                             f'({num_heads})')
        self.num_heads = num_heads
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, c = x.shape
        q, k, v = self.qkv(x).view(n, t, 3, self.num_heads, c // self.num_heads).unbind(2)
        q, k, v = (y.transpose(1, 2) for y in (q, k, v))                # [N, heads, T, C/h]
        weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(c // self.num_heads), -1)
        return self.proj((weights @ v).transpose(1, 2).reshape(n, t, c))


class TransformerStage(nn.Module):
    """A pre-norm transformer block (self-attention, then a 2x MLP), channels first:
    ``[N, C, T]`` -> ``[N, C, T]``."""

    def __init__(self, channels: int, num_heads: int, dropout: float) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(channels), nn.LayerNorm(channels)
        self.attention = TemporalSelfAttention(channels, num_heads)
        self.mlp = nn.Sequential(nn.Linear(channels, 2 * channels), nn.GELU(),
                                 nn.Dropout(dropout), nn.Linear(2 * channels, channels))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.transpose(1, 2)
        x = x + self.dropout(self.attention(self.norm1(x)))
        x = x + self.dropout(self.mlp(self.norm2(x)))
        return x.transpose(1, 2)


class ConvStage(nn.Module):
    """A residual temporal convolution (kernel ``k``, batch norm, ReLU): ``[N, C, T]`` ->
    ``[N, C, T]``."""

    def __init__(self, channels: int, kernel_size: int, dropout: float) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
        self.norm = nn.BatchNorm1d(channels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.dropout(F.relu(self.norm(self.conv(x))))


class SpanSteps(nn.Module):
    """The first ``num_steps`` steps of a sequence, ``[N, C, T + C_ctx]`` -> ``[N, C, T]``: a
    tap point for the span's part of a stage that also runs over context steps."""

    def __init__(self, num_steps: int) -> None:
        super().__init__()
        self.num_steps = num_steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[..., :self.num_steps]


@MODELS.register_module()
class TemporalFeatureNet(BaseModule):
    """Stages of temporal transformer blocks or convolutions over a feature sequence.

    ``[N, in_channels, T, 1, 1]`` -> LayerNorm, linear to ``width`` (+ a learned position
    embedding for transformer stages) -> ``stages.0`` ... ``stages.{num_stages-1}`` (each
    ``[N, width, T]``) -> linear to ``out_channels``, ReLU -> ``[N, out_channels, T, 1, 1]``

    Args:
        in_channels: Channels of the input features (768 for CLIP ViT-L/14).
        num_steps: Time steps ``T`` of the input (the position embedding is built for it).
        width: Channels of the stages.
        num_stages: Stages.
        stage_type: ``'transformer'`` (:class:`TransformerStage`) or ``'conv'``
            (:class:`ConvStage`).
        num_heads: Attention heads of transformer stages.
        kernel_size: Temporal kernel of convolution stages.
        out_channels: Output channels (None: ``width``, no output projection). A student whose
            features a teacher's CVAE reconstructs (GKD) needs the teacher's.
        dropout: Dropout of the input projection and of the stages.
        context_steps: Steps of context that follow the span's ``num_steps`` in the input
            (0: none; see the module docstring).
        read_context: With ``context_steps``, whether the stages run over the context steps
            (a privileged teacher) or the context is dropped first (a span-only student: no
            extra parameter, the same computation as without context).
        init_cfg: mmengine initialisation config.
    """

    def __init__(self, in_channels: int = 768, num_steps: int = 8, width: int = 256,
                 num_stages: int = 3, stage_type: str = 'transformer', num_heads: int = 4,
                 kernel_size: int = 3, out_channels: Optional[int] = None, dropout: float = 0.1,
                 context_steps: int = 0, read_context: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if stage_type not in STAGE_TYPES:
            raise ValueError(f'stage_type must be one of {STAGE_TYPES}, got {stage_type!r}')
        self.in_channels, self.num_steps = in_channels, num_steps
        self.context_steps = context_steps
        self.uses_context = bool(context_steps) and read_context
        read_steps = num_steps + context_steps if self.uses_context else num_steps
        self.input_norm = nn.LayerNorm(in_channels)
        self.input_proj = nn.Linear(in_channels, width)
        self.input_dropout = nn.Dropout(dropout)
        self.pos_embed = nn.Parameter(torch.zeros(1, width, read_steps)) \
            if stage_type == 'transformer' else None
        if stage_type == 'transformer':
            stages = [TransformerStage(width, num_heads, dropout) for _ in range(num_stages)]
        else:
            stages = [ConvStage(width, kernel_size, dropout) for _ in range(num_stages)]
        self.stages = nn.ModuleList(stages)
        if self.uses_context:
            # segment 0: the span's steps, 1: the context's
            self.segment_embed = nn.Parameter(torch.zeros(1, width, 2))
            self.span_stages = nn.ModuleList(SpanSteps(num_steps) for _ in range(num_stages))
        self.output_proj = nn.Conv1d(width, out_channels, 1) \
            if out_channels and out_channels != width else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, in_channels, T (+ context_steps), 1, 1]`` -> ``[N, out_channels, T, 1, 1]``
        (the span's ``T = num_steps`` steps)."""
        steps = self.num_steps + self.context_steps
        if x.dim() != 5 or x.shape[1] != self.in_channels or x.shape[2] != steps \
                or x.shape[3:] != (1, 1):
            raise ValueError(f'TemporalFeatureNet(in_channels={self.in_channels}, num_steps='
                             f'{self.num_steps}, context_steps={self.context_steps}) takes '
                             f'[N, {self.in_channels}, {steps}, 1, 1] feature clips, got '
                             f'{tuple(x.shape)}')
        if not self.uses_context:
            x = x[:, :, :self.num_steps]
        seq = self.input_norm(x.flatten(2).transpose(1, 2))              # [N, T', C_in]
        x = self.input_dropout(self.input_proj(seq)).transpose(1, 2)      # [N, width, T']
        if self.pos_embed is not None:
            x = x + self.pos_embed
        if self.uses_context:
            x = x + self.segment_embeddings()
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if self.uses_context:
                self.span_stages[i](x)                                   # tap: [N, width, T]
        x = x[..., :self.num_steps]
        return F.relu(self.output_proj(x))[..., None, None]

    def segment_embeddings(self) -> torch.Tensor:
        """``[1, width, num_steps + context_steps]``: the span's segment embedding on its steps,
        the context's on the others."""
        segments = torch.arange(self.num_steps + self.context_steps,
                                device=self.segment_embed.device) >= self.num_steps
        return self.segment_embed[..., segments.long()]
