"""Projection of clip features to the model dimension."""
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from ..utils import apply_mask, glorot_init_cfg


class VideoProjection(BaseModule):
    """``V0 = LN(Linear(Dropout(video)))``: clip features ``[B, L, Dv]`` -> ``[B, L, D]``.

    Args:
        video_dim: Input feature dimension ``Dv`` (1024 for I3D).
        dim: Output dimension ``D``.
        drop_rate: Dropout on the input features.
        init_cfg: mmengine initialisation config (default: Glorot-uniform, zero biases).
    """

    def __init__(self, video_dim: int = 1024, dim: int = 128, drop_rate: float = 0.0,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=glorot_init_cfg() if init_cfg is None else init_cfg)
        self.dropout = nn.Dropout(drop_rate)
        self.proj = nn.Linear(video_dim, dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, video: torch.Tensor, video_mask: torch.Tensor) -> torch.Tensor:
        """``video`` ``[B, L, Dv]``, ``video_mask`` ``[B, L]`` -> ``[B, L, D]`` (zero at
        padding)."""
        if video.shape[-1] != self.proj.in_features:
            raise ValueError(f'clip features have {video.shape[-1]} dimensions, the model '
                             f'expects video_dim={self.proj.in_features}')
        return apply_mask(self.norm(self.proj(self.dropout(video))), video_mask)
