"""DeepMind's Kinetics classifier of Inception-I3D as an mmaction recognition head."""
from collections import OrderedDict
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.models.heads.base import BaseHead
from mmaction.registry import MODELS


@MODELS.register_module()
class I3DLogitsHead(BaseHead):
    """I3D's logits layer on ``Mixed_5c`` features ``[N, C, T, H, W]``: average-pool over a
    ``(2, 7, 7)`` window (stride 1; smaller maps are pooled over all they have), dropout, a
    ``1x1x1`` convolution with bias, then the mean over the remaining positions -> logits
    ``[N, num_classes]``. Its ``logits.conv3d_0c_1x1`` weights are those of
    :class:`~mmemtm.models.backbones.InceptionI3D`'s classifier, so a Kinetics-400 checkpoint
    maps onto ``Recognizer3D(backbone=InceptionI3D(num_classes=0), cls_head=I3DLogitsHead())``
    (:func:`mmemtm.benchmarks.real_video_smoke.kinetics_recognizer_checkpoint`).

    Args:
        num_classes: Classes (400 for Kinetics-400).
        in_channels: Feature channels (1024 for I3D).
        dropout_ratio: Dropout before the classifier.
        window: Average-pooling window ``(t, h, w)``.
        init_cfg: mmengine initialisation config.
        kwargs: Passed to mmaction's ``BaseHead``.
    """

    def __init__(self, num_classes: int = 400, in_channels: int = 1024,
                 dropout_ratio: float = 0.0, window: tuple = (2, 7, 7),
                 init_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(num_classes, in_channels, init_cfg=init_cfg, **kwargs)
        self.window = tuple(window)
        self.dropout = nn.Dropout(dropout_ratio)
        # the names of InceptionI3D's Unit3D(use_bn=False, use_relu=False): a 1x1x1 conv with bias
        conv = nn.Sequential(OrderedDict(conv=nn.Conv3d(in_channels, num_classes, 1)))
        self.logits = nn.Sequential(OrderedDict(conv3d_0c_1x1=conv))

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """``[N, C, T, H, W]`` -> ``[N, num_classes]``."""
        window = tuple(min(w, s) for w, s in zip(self.window, x.shape[2:]))
        x = F.avg_pool3d(x, window, stride=1)
        return self.logits(self.dropout(x)).mean(dim=(2, 3, 4))
