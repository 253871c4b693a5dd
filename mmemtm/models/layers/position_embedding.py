"""Learned absolute position table."""
from typing import Optional, Union

import torch
from mmengine.model import BaseModule

from ..utils import glorot_parameter


class PositionEmbedding(BaseModule):
    """Adds a learned position table ``P`` ``[max_len, D]`` (Glorot-uniform init) to a sequence.

    A sequence of ``L <= max_len`` positions uses the first ``L`` rows, so one table can serve
    sequences of different lengths (the shared encoder adds it to both video and query).

    Args:
        max_len: Rows of the table (longest sequence).
        dim: Feature dimension ``D``.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self, max_len: int, dim: int,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.max_len = max_len
        self.weight = glorot_parameter(max_len, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``[B, L, D]`` -> ``x + P[:L]`` ``[B, L, D]``."""
        length = x.shape[1]
        if length > self.max_len:
            raise ValueError(f'a sequence of {length} positions is longer than the position '
                             f'table ({self.max_len} rows): raise max_len/max_vlen')
        return x + self.weight[:length]
