"""SeqPAN's conditioned start/end predictor."""
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from ..layers.feature_encoder import FeatureEncoder
from ..utils import glorot_init_cfg


class ConditionedSpanPredictor(BaseModule):
    """Start/end logits, the end conditioned on the start features.

    One :class:`FeatureEncoder` ``FE`` is applied twice, ``Hs = FE(F')`` and ``He = FE(Hs)``;
    each boundary has its own head ``Linear_{D->1}(ReLU(Linear_{2D->D}([LN(H); F'])))``.

    Args:
        dim: Feature dimension ``D``.
        max_len: Rows of the feature encoder's position table (``max_vlen``).
        num_heads: Attention heads of the feature encoder.
        num_conv_layers: Layers of its convolution block.
        kernel_size: Width of its depthwise convolutions.
        drop_rate: Dropout rate of the feature encoder.
        init_cfg: mmengine initialisation config (default: Glorot-uniform, zero biases).
    """

    def __init__(self, dim: int = 128, max_len: int = 256, num_heads: int = 8,
                 num_conv_layers: int = 4, kernel_size: int = 7, drop_rate: float = 0.0,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=glorot_init_cfg() if init_cfg is None else init_cfg)
        self.feature_encoder = FeatureEncoder(dim, max_len, num_heads, num_conv_layers,
                                              kernel_size, drop_rate)
        self.start_norm = nn.LayerNorm(dim, eps=1e-6)
        self.end_norm = nn.LayerNorm(dim, eps=1e-6)
        self.start_head = self._boundary_head(dim)
        self.end_head = self._boundary_head(dim)

    @staticmethod
    def _boundary_head(dim: int) -> nn.Sequential:
        return nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, 1))

    def forward(self, features: torch.Tensor,
                mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``features`` ``F'`` ``[B, L, D]``, ``mask`` ``[B, L]`` -> start and end logits
        ``[B, L]`` (unmasked: values at padded clips are meaningless)."""
        start_feats = self.feature_encoder(features, mask)
        end_feats = self.feature_encoder(start_feats, mask)
        start = self.start_head(torch.cat([self.start_norm(start_feats), features], -1))
        end = self.end_head(torch.cat([self.end_norm(end_feats), features], -1))
        return start.squeeze(-1), end.squeeze(-1)
