"""Weight initialisation of the EMTM/SeqPAN layers (docs/method.md §3, §7)."""
from typing import List

import torch
import torch.nn as nn


def glorot_init_cfg() -> List[dict]:
    """mmengine ``init_cfg`` of the reference: Glorot-uniform kernels of linear and convolution
    layers with zero biases, LayerNorm weights 1 and biases 0."""
    return [
        dict(type='Xavier', layer=['Linear', 'Conv1d', 'Conv2d'], distribution='uniform',
             bias=0.0),
        dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0),
    ]


def glorot_parameter(*shape: int) -> nn.Parameter:
    """A trainable ``shape`` tensor drawn from the Glorot-uniform distribution (TF's default
    initialiser of variables such as position tables and attention vectors)."""
    weight = torch.empty(*shape)
    nn.init.xavier_uniform_(weight)
    return nn.Parameter(weight)
