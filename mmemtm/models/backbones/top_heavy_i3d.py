"""Top-heavy Inception-I3D: 2-D (``1xkxk``) kernels in the lower layers, 3-D ones on top.

Xie et al. ("Rethinking Spatiotemporal Feature Learning", ECCV 2018) call an I3D whose lower
layers are 2-D and whose upper layers are 3-D *top-heavy*; GKD (Wang et al., AAAI 2024) uses it as
the student of an Inception-I3D teacher, with 2-D kernels in the stem and ``Mixed_3b``-``Mixed_4c``
and 3-D kernels from ``Mixed_4d`` on. :class:`TopHeavyInceptionI3D` builds that network from the
layers of :mod:`mmemtm.models.backbones.inception_i3d` with the same layer names, so that

* ``first_3d='conv3d_1a_7x7'`` and ``width=1`` give exactly :class:`InceptionI3D` (same state
  dict), and ``width < 1`` a narrower I3D of the same shape;
* the 2-D layers can be *deflated* from 3-D weights (``deflate=dict(checkpoint=...)``): a
  ``kt x kh x kw`` kernel becomes ``1 x kh x kw`` by summing over time (the response of the 3-D
  kernel to a clip that does not change in time) or by taking its centre slice.

Strides and poolings are those of I3D in every layer (a 2-D layer keeps its temporal stride, with a
temporal kernel of 1), so both networks give feature maps of the same size at every layer.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from mmengine.runner.checkpoint import CheckpointLoader

from .inception_i3d import (INCEPTION_CHANNELS, InceptionBlock3D, MaxPool3dSame,
                            OffsetBatchNorm3d, Unit3D)

#: Every layer of Inception-I3D up to ``Mixed_5c``, in order.
LAYERS = ('conv3d_1a_7x7', 'maxpool3d_2a_3x3', 'conv3d_2b_1x1', 'conv3d_2c_3x3',
          'maxpool3d_3a_3x3', 'mixed_3b', 'mixed_3c', 'maxpool3d_4a_3x3', 'mixed_4b', 'mixed_4c',
          'mixed_4d', 'mixed_4e', 'mixed_4f', 'maxpool3d_5a_2x2', 'mixed_5b', 'mixed_5c')
#: Layers with weights, where the 3-D part may start.
CONV_LAYERS = tuple(name for name in LAYERS if not name.startswith('maxpool'))
DEFLATE_MODES = ('sum', 'centre')


def scale_channels(channels: int, width: float) -> int:
    """``channels * width`` rounded, at least 1."""
    return max(1, int(round(channels * width)))


def deflate_kernel(kernel: torch.Tensor, mode: str = 'sum') -> torch.Tensor:
    """A 3-D kernel ``[out, in, kt, kh, kw]`` as a 2-D one ``[out, in, 1, kh, kw]``.

    ``'sum'``: the sum over time (a static clip gives the same response as before);
    ``'centre'``: the middle time slice.
    """
    if mode not in DEFLATE_MODES:
        raise ValueError(f'deflate mode must be one of {DEFLATE_MODES}, got {mode!r}')
    if mode == 'sum':
        return kernel.sum(dim=2, keepdim=True)
    return kernel[:, :, kernel.shape[2] // 2:kernel.shape[2] // 2 + 1]


def deflate_state_dict(source: Dict[str, torch.Tensor], target: Dict[str, torch.Tensor],
                       mode: str = 'sum', ignore_prefixes: Sequence[str] = ('logits.',)
                       ) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Map a 3-D state dict onto a (partly) 2-D model's state dict of the same layer names.

    Args:
        source: Weights of the 3-D network (e.g. :class:`InceptionI3D`'s).
        target: The model's own state dict (shapes to fill).
        mode: How to deflate kernels (:func:`deflate_kernel`).
        ignore_prefixes: Source keys that need no place (the Kinetics classifier).

    Returns:
        tuple: The new state dict and the list of problems (missing, unexpected, mismatched
        keys); the new state dict is only complete when the list is empty.
    """
    out, problems = {}, []
    for key, dst in target.items():
        if key not in source:
            problems.append(f'missing {key}')
            continue
        src = source[key]
        if src.shape == dst.shape:
            out[key] = src.clone()
        elif (src.dim() == 5 and dst.dim() == 5 and dst.shape[2] == 1
              and src.shape[:2] == dst.shape[:2] and src.shape[3:] == dst.shape[3:]):
            out[key] = deflate_kernel(src, mode)
        else:
            problems.append(f'shape of {key}: {tuple(src.shape)} does not fit {tuple(dst.shape)}')
    problems += [f'unexpected {key}' for key in source
                 if key not in target and not key.startswith(tuple(ignore_prefixes))]
    return out, problems


@MODELS.register_module()
class TopHeavyInceptionI3D(BaseModule):
    """Inception-I3D up to ``Mixed_5c`` whose layers before ``first_3d`` are 2-D.

    Input ``[N, in_channels, T, H, W]``; output the features of ``last_layer``, for ``Mixed_5c``
    ``[N, C, ceil(T/8), ceil(H/32), ceil(W/32)]`` with ``C = out_channels`` (1024 at width 1),
    for ``Mixed_4f`` ``[N, C, ceil(T/4), ceil(H/16), ceil(W/16)]`` (832 at width 1).

    Args:
        first_3d: The first layer with 3-D kernels (one of :data:`CONV_LAYERS`); every layer
            before it (and the poolings before it) has a temporal kernel of 1. ``'mixed_4d'``
            is GKD's student, ``'conv3d_1a_7x7'`` the plain I3D.
        width: Multiplier of every layer's channels.
        last_layer: The last layer built (one of :data:`CONV_LAYERS` from ``mixed_3b`` on): a
            shallower network for small inputs or budgets.
        in_channels: Input channels (3 for RGB).
        bn_momentum: Momentum of the batch-norm statistics; None keeps I3D's 0.001 (Sonnet's
            decay 0.999, right for fine-tuning pretrained weights); 0.1 suits training from
            scratch.
        norm_eval: Keep batch norm in eval mode while training (running statistics, as
            mmaction's backbones do when fine-tuning with small batches).
        deflate: ``dict(checkpoint=PATH, mode='sum' | 'centre', prefix='')``: initialise from the
            weights of a 3-D network with the same layer names (keys under ``prefix`` in the
            file, e.g. ``'backbone.'``), deflating the kernels of the 2-D layers. The file is read
            by mmengine's checkpoint loader (weights only for local files). None: from scratch.
        init_cfg: mmengine initialisation config (used when ``deflate`` is None).
    """

    def __init__(self, first_3d: str = 'mixed_4d', width: float = 1.0,
                 last_layer: str = 'mixed_5c', in_channels: int = 3,
                 bn_momentum: Optional[float] = None, norm_eval: bool = False,
                 deflate: Optional[dict] = None, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if first_3d not in CONV_LAYERS:
            raise ValueError(f'first_3d must be one of {CONV_LAYERS}, got {first_3d!r}')
        if last_layer not in INCEPTION_CHANNELS:
            raise ValueError(f'last_layer must be one of {tuple(INCEPTION_CHANNELS)}, got '
                             f'{last_layer!r}')
        if width <= 0:
            raise ValueError(f'width must be positive, got {width}')
        if deflate is not None and 'checkpoint' not in deflate:
            raise ValueError(f'deflate needs a checkpoint, got {deflate}')
        self.first_3d, self.width, self.deflate = first_3d, width, deflate
        self.norm_eval = norm_eval
        self.layer_names = LAYERS[:LAYERS.index(last_layer) + 1]
        channels = self._build_stem(in_channels)
        for name, widths in INCEPTION_CHANNELS.items():
            if name not in self.layer_names:
                break
            if name == 'mixed_4b':
                self.maxpool3d_4a_3x3 = MaxPool3dSame(self._kernel(name, 3), 2)
            elif name == 'mixed_5b':
                self.maxpool3d_5a_2x2 = MaxPool3dSame(self._kernel(name, 2), 2)
            block = InceptionBlock3D(channels, [scale_channels(c, width) for c in widths],
                                     temporal_kernel=self._kernel(name, 3)[0])
            self.add_module(name, block)
            channels = block.out_channels
        self.out_channels = channels
        if bn_momentum is not None:
            for module in self.modules():
                if isinstance(module, OffsetBatchNorm3d):
                    module.momentum = bn_momentum

    def is_3d(self, name: str) -> bool:
        """Whether layer ``name`` (a pooling counts as part of the layer after it) is 3-D."""
        position = LAYERS.index(name)
        if name.startswith('maxpool'):
            position += 1
        return position >= LAYERS.index(self.first_3d)

    def _kernel(self, name: str, size: int) -> Tuple[int, int, int]:
        return (size if self.is_3d(name) else 1, size, size)

    def _build_stem(self, in_channels: int) -> int:
        c64, c192 = scale_channels(64, self.width), scale_channels(192, self.width)
        self.conv3d_1a_7x7 = Unit3D(in_channels, c64, self._kernel('conv3d_1a_7x7', 7), stride=2)
        self.maxpool3d_2a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.conv3d_2b_1x1 = Unit3D(c64, c64, 1)
        self.conv3d_2c_3x3 = Unit3D(c64, c192, self._kernel('conv3d_2c_3x3', 3))
        self.maxpool3d_3a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        return c192

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``[N, C_in, T, H, W]`` -> ``Mixed_5c`` features ``[N, C, T', H', W']``."""
        if inputs.dim() != 5:
            raise ValueError(f'TopHeavyInceptionI3D expects clips [N, C, T, H, W], got shape '
                             f'{tuple(inputs.shape)}')
        x = inputs
        for name in self.layer_names:
            x = getattr(self, name)(x)
        return x

    def train(self, mode: bool = True) -> 'TopHeavyInceptionI3D':
        """Set the mode; batch norm stays in eval mode with ``norm_eval``."""
        super().train(mode)
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, OffsetBatchNorm3d):
                    module.eval()
        return self

    def init_weights(self) -> None:
        """Deflate from ``deflate['checkpoint']`` when given, else mmengine's initialisation."""
        if self.deflate is None:
            super().init_weights()
            return
        path = self.deflate['checkpoint']
        checkpoint = CheckpointLoader.load_checkpoint(path, map_location='cpu')
        state = checkpoint.get('state_dict', checkpoint)
        prefix = self.deflate.get('prefix', '')
        source = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        weights, problems = deflate_state_dict(source, self.state_dict(),
                                               self.deflate.get('mode', 'sum'))
        if problems:
            raise ValueError(f'cannot deflate {path} (prefix {prefix!r}) into '
                             f'TopHeavyInceptionI3D(width={self.width}): ' + '; '.join(problems))
        self.load_state_dict(weights)
        self._is_init = True
