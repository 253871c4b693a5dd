"""The conditional VAE of GKD: a generative model of a network's last feature map given its
channel x time attention.

GKD (Wang et al., AAAI 2024) models the feature map ``F [N, C, T, H, W]`` with a conditional VAE
whose latent ``z [N, C, T]`` has the prior ``N(A, I)``, ``A [N, C, T]`` being the attention of
:class:`~mmemtm.models.heads.ChannelTimeAttention`. Our layers (the shapes follow the
description; the sizes are ours):

* encoder ``q(z | F, A)``: ``F`` average-pooled to ``s x s``, a ``1 x s x s`` convolution to a
  ``C``-channel time series, concatenated with ``A`` and a per-time-step MLP
  ``2C -> hidden -> hidden -> 2C`` giving the mean and log-variance ``[N, C, T]``;
* decoder ``p(F | z, A)``: ``[z, A]`` through a per-time-step MLP ``2C -> hidden -> hidden -> C``,
  a transposed ``1 x s x s`` convolution back to ``s x s``, group norm and ReLU (features are
  non-negative), resized to ``H x W`` when it differs from ``s``.
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule


def group_norm(channels: int, max_groups: int = 32) -> nn.GroupNorm:
    """Group norm with the largest number of groups ``<= max_groups`` dividing ``channels``."""
    return nn.GroupNorm(math.gcd(channels, max_groups), channels)


def time_mlp(in_dim: int, hidden: int, out_dim: int) -> nn.Sequential:
    """Per-time-step MLP ``in_dim -> hidden -> hidden -> out_dim`` on ``[..., in_dim]``."""
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(inplace=True),
                         nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
                         nn.Linear(hidden, out_dim))


def check_condition(features: torch.Tensor, attention: torch.Tensor, name: str) -> None:
    """Raise a clear error unless ``attention`` is ``[N, C, T]`` of ``features [N, C, T, ...]``."""
    if features.dim() != 5 or attention.shape != features.shape[:3]:
        raise ValueError(f'{name}: expected features [N, C, T, H, W] and attention [N, C, T] of '
                         f'the same N, C, T, got {tuple(features.shape)} and '
                         f'{tuple(attention.shape)}')


@MODELS.register_module()
class FeatureCVAE(BaseModule):
    """Conditional VAE of ``[N, C, T, H, W]`` features given the attention ``A [N, C, T]``.

    Args:
        in_channels: Feature channels ``C``.
        spatial_size: Side ``s`` of the pooled map the encoder reads and the decoder writes.
        hidden_channels: Width of the MLPs (default ``C``).
        groups: Groups of the ``1 x s x s`` (transposed) convolutions (``C`` makes them
            depthwise, for wide features).
        init_cfg: mmengine initialisation config.
    """

    def __init__(self, in_channels: int, spatial_size: int = 7,
                 hidden_channels: Optional[int] = None, groups: int = 1,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        c, s = in_channels, spatial_size
        hidden = hidden_channels or c
        self.in_channels, self.spatial_size = c, s
        self.enc_conv = nn.Sequential(nn.Conv3d(c, c, (1, s, s), groups=groups), group_norm(c),
                                      nn.ReLU(inplace=True))
        self.enc_mlp = time_mlp(2 * c, hidden, 2 * c)
        self.dec_mlp = time_mlp(2 * c, hidden, c)
        self.dec_conv = nn.Sequential(nn.ConvTranspose3d(c, c, (1, s, s), groups=groups),
                                      group_norm(c), nn.ReLU(inplace=True))

    def encode(self, features: torch.Tensor, attention: torch.Tensor
               ) -> Tuple[torch.Tensor, torch.Tensor]:
        """``q(z | F, A)``: features ``[N, C, T, H, W]``, attention ``[N, C, T]`` -> mean and
        log-variance ``[N, C, T]``."""
        check_condition(features, attention, 'FeatureCVAE.encode')
        t = features.shape[2]
        pooled = F.adaptive_avg_pool3d(features, (t, self.spatial_size, self.spatial_size))
        series = self.enc_conv(pooled).flatten(2)                        # [N, C, T]
        stats = self.enc_mlp(torch.cat([series, attention], 1).transpose(1, 2))  # [N, T, 2C]
        mean, log_var = stats.transpose(1, 2).chunk(2, dim=1)
        return mean, log_var

    def decode(self, z: torch.Tensor, attention: torch.Tensor,
               size: Optional[Tuple[int, int]] = None) -> torch.Tensor:
        """``p(F | z, A)``: latent and attention ``[N, C, T]`` -> features
        ``[N, C, T, H, W]`` (``size = (H, W)``, default ``(s, s)``)."""
        if z.shape != attention.shape:
            raise ValueError(f'FeatureCVAE.decode: latent {tuple(z.shape)} and attention '
                             f'{tuple(attention.shape)} differ')
        series = self.dec_mlp(torch.cat([z, attention], 1).transpose(1, 2)).transpose(1, 2)
        recon = self.dec_conv(series[..., None, None])                   # [N, C, T, s, s]
        if size is not None and tuple(size) != recon.shape[3:]:
            recon = F.interpolate(recon, (recon.shape[2], *size), mode='trilinear',
                                  align_corners=False)
        return recon

    def forward(self, features: torch.Tensor, attention: torch.Tensor, sample: bool = True
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encode, draw ``z`` (``mean + eps * std`` when ``sample``, else the mean) and decode.

        Returns:
            tuple: mean and log-variance ``[N, C, T]`` and the reconstruction
            ``[N, C, T, H, W]`` (the size of ``features``).
        """
        mean, log_var = self.encode(features, attention)
        z = mean + torch.randn_like(mean) * (0.5 * log_var).exp() if sample else mean
        return mean, log_var, self.decode(z, attention, features.shape[3:])

    def generate(self, attention: torch.Tensor, size: Tuple[int, int],
                 sample: bool = True) -> torch.Tensor:
        """Features ``[N, C, T, H, W]`` from the prior: ``z ~ N(A, I)`` (``z = A`` when not
        ``sample``), decoded with ``A``."""
        z = attention + torch.randn_like(attention) if sample else attention
        return self.decode(z, attention, size)
