"""GKD's channel x time attention and the recognition head built on it.

GKD (Wang et al., AAAI 2024) weights a network's last feature map ``F [N, C, T, H, W]`` with an
attention ``A in (0, 1)^{C x T}`` and classifies the attention-weighted (foreground) feature; a
conditional VAE (:class:`~mmemtm.models.heads.FeatureCVAE`) models ``F`` given ``A``. Our layers
follow the published description (spatial convolution to a ``C'``-channel time series, temporal
resampling, temporal convolution, linear + sigmoid); widths, the pooling before the spatial
convolution, the per-sample normalisation of the foreground and the classifier on its pooled
vector are our choices.
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmaction.models.heads.base import BaseHead
from mmengine.model import BaseModule
from mmengine.model.weight_init import normal_init

from .feature_cvae import group_norm


class ChannelTimeAttention(BaseModule):
    """Channel x time attention ``A [N, C, T]`` in ``(0, 1)`` of features ``[N, C, T, H, W]``.

    1. average-pool space to ``s x s`` and convolve ``1 x s x s`` to ``C'`` channels (group norm,
       ReLU): a ``[N, C', T]`` time series;
    2. resample it linearly to ``resample_length`` steps;
    3. temporal convolution (kernel 3) to ``C`` channels, group norm, ReLU;
    4. a linear map from the ``resample_length`` steps back to ``T`` and a sigmoid.

    Args:
        in_channels: Feature channels ``C``.
        temporal_size: Time steps ``T`` of the feature map (the linear map of step 4 is built for
            it; other lengths are refused).
        mid_channels: ``C'`` (default ``C // 2``).
        spatial_size: ``s``.
        resample_length: Steps of the resampled series.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self, in_channels: int, temporal_size: int, mid_channels: Optional[int] = None,
                 spatial_size: int = 7, resample_length: int = 64,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        mid = mid_channels or max(in_channels // 2, 1)
        self.in_channels, self.temporal_size = in_channels, temporal_size
        self.spatial_size, self.resample_length = spatial_size, resample_length
        self.spatial = nn.Sequential(
            nn.Conv3d(in_channels, mid, (1, spatial_size, spatial_size)), group_norm(mid),
            nn.ReLU(inplace=True))
        self.temporal = nn.Sequential(nn.Conv1d(mid, in_channels, 3, padding=1),
                                      group_norm(in_channels), nn.ReLU(inplace=True))
        self.to_time = nn.Linear(resample_length, temporal_size)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``[N, C, T, H, W]`` -> ``[N, C, T]`` in ``(0, 1)``."""
        if features.dim() != 5 or features.shape[1] != self.in_channels \
                or features.shape[2] != self.temporal_size:
            raise ValueError(f'ChannelTimeAttention(in_channels={self.in_channels}, '
                             f'temporal_size={self.temporal_size}) got features of shape '
                             f'{tuple(features.shape)}; set temporal_size to the feature map\'s '
                             'time steps (clip length / 8 for I3D)')
        s = self.spatial_size
        pooled = F.adaptive_avg_pool3d(features, (self.temporal_size, s, s))
        series = self.spatial(pooled).flatten(2)                          # [N, C', T]
        series = F.interpolate(series, size=self.resample_length, mode='linear',
                               align_corners=False)
        return torch.sigmoid(self.to_time(self.temporal(series)))         # [N, C, T]


def foreground(features: torch.Tensor, attention: torch.Tensor,
               normalize: bool = True) -> torch.Tensor:
    """``F * A`` (``A`` broadcast over space), rescaled per sample to the sum of ``F`` when
    ``normalize``: ``[N, C, T, H, W]`` and ``[N, C, T]`` -> ``[N, C, T, H, W]``."""
    weighted = features * attention[..., None, None]
    if not normalize:
        return weighted
    dims = tuple(range(1, features.dim()))
    scale = features.sum(dims, keepdim=True) / weighted.sum(dims, keepdim=True).clamp_min(1e-6)
    return weighted * scale


@MODELS.register_module()
class GKDAttentionHead(BaseHead):
    """Classifies the attention-weighted feature of a 3-D backbone (GKD's head); optionally holds
    a :class:`~mmemtm.models.heads.FeatureCVAE` trained beside it (a GKD *teacher* needs one).

    ``forward``: features ``[N, C, T, H, W]`` -> attention ``A [N, C, T]``, foreground
    (:func:`foreground`), average over ``T, H, W``, dropout, linear -> logits
    ``[N, num_classes]``.

    Args:
        num_classes: Classes.
        in_channels: Feature channels ``C``.
        attention: Keyword arguments of :class:`ChannelTimeAttention` (``temporal_size`` at
            least); ``in_channels`` is filled in.
        cvae: Config of a :class:`~mmemtm.models.heads.FeatureCVAE` trained with the head
            (``in_channels`` filled in), or None.
        loss_cvae: Config of its loss (:class:`~mmemtm.models.losses.CVAELoss`).
        detach_cvae_input: Train the CVAE on detached features and attention (it models the
            network without changing it).
        normalize_foreground: See :func:`foreground`.
        dropout_ratio: Dropout before the classifier.
        init_std: Std of the classifier's normal initialisation.
        kwargs: Passed to mmaction's ``BaseHead`` (``loss_cls``, ``average_clips``, ...).
    """

    def __init__(self, num_classes: int, in_channels: int, attention: dict,
                 cvae: Optional[dict] = None,
                 loss_cvae: dict = dict(type='CVAELoss', kl_weight=0.1),
                 detach_cvae_input: bool = True, normalize_foreground: bool = True,
                 dropout_ratio: float = 0.5, init_std: float = 0.01, **kwargs) -> None:
        super().__init__(num_classes, in_channels, **kwargs)
        self.attention = ChannelTimeAttention(in_channels=in_channels, **attention)
        self.cvae = MODELS.build(dict(cvae, in_channels=in_channels)) if cvae else None
        self.loss_cvae = MODELS.build(loss_cvae) if cvae else None
        self.detach_cvae_input = detach_cvae_input
        self.normalize_foreground = normalize_foreground
        self.dropout = nn.Dropout(dropout_ratio)
        self.fc_cls = nn.Linear(in_channels, num_classes)
        self.init_std = init_std

    def init_weights(self) -> None:
        super().init_weights()
        normal_init(self.fc_cls, std=self.init_std)

    def classify(self, features: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        """Logits ``[N, num_classes]`` of features ``[N, C, T, H, W]`` and attention
        ``[N, C, T]``."""
        fg = foreground(features, attention, self.normalize_foreground)
        return self.fc_cls(self.dropout(fg.mean(dim=(2, 3, 4))))

    def forward_with_attention(self, features: torch.Tensor
                               ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Logits ``[N, num_classes]`` and attention ``[N, C, T]``."""
        attention = self.attention(features)
        return self.classify(features, attention), attention

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """Features ``[N, C, T, H, W]`` -> logits ``[N, num_classes]``."""
        return self.forward_with_attention(x)[0]

    def cvae_loss(self, features: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        """The CVAE's loss on (detached, if so configured) features and attention."""
        if self.detach_cvae_input:
            features, attention = features.detach(), attention.detach()
        mean, log_var, recon = self.cvae(features, attention)
        return self.loss_cvae(recon, features, mean, log_var, attention)

    def loss(self, feats: torch.Tensor, data_samples: list, **kwargs) -> Dict[str, torch.Tensor]:
        """Classification losses (mmaction's ``loss_by_feat``) and, with a CVAE, ``loss_cvae``."""
        scores, attention = self.forward_with_attention(feats)
        losses = self.loss_by_feat(scores, data_samples)
        if self.cvae is not None:
            losses['loss_cvae'] = self.cvae_loss(feats, attention)
        return losses
