"""SeqPAN's sequence matching head: begin/inside/end/outside tags and label embeddings."""
from typing import Dict, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from ..losses import label_orthogonality_loss, masked_tag_cross_entropy
from ..utils import apply_mask, glorot_init_cfg

#: Tags: 0 outside, 1 begin, 2 inside, 3 end (see ``BuildGroundingTargets``).
NUM_MATCH_TAGS = 4


class MatchingHead(BaseModule):
    """Tags every clip and adds the expected tag embedding to its features.

    ``logits = Linear_{D->4}(F)``, ``pi = softmax(logits)``, ``F' = (F + pi E) * v_mask`` with
    trainable label embeddings ``E`` ``[4, D]`` (orthogonal init).

    Args:
        dim: Feature dimension ``D``.
        num_tags: Number of tags.
        init_cfg: mmengine initialisation config (default: Glorot-uniform, zero biases).
    """

    def __init__(self, dim: int = 128, num_tags: int = NUM_MATCH_TAGS,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=glorot_init_cfg() if init_cfg is None else init_cfg)
        self.classifier = nn.Linear(dim, num_tags)
        self.label_embedding = nn.Parameter(torch.empty(num_tags, dim))
        self.reset_label_embedding()

    def reset_label_embedding(self) -> None:
        """Orthogonal initialisation of ``E`` (orthonormal rows when ``num_tags <= D``)."""
        nn.init.orthogonal_(self.label_embedding)

    def init_weights(self) -> None:
        """Glorot-uniform classifier (init_cfg) and orthogonal label embeddings."""
        super().init_weights()
        self.reset_label_embedding()

    def forward(self, features: torch.Tensor,
                mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``features`` ``[B, L, D]``, ``mask`` ``[B, L]`` -> ``(F' [B, L, D], logits
        [B, L, 4])``."""
        logits = self.classifier(features)
        probs = torch.softmax(logits, dim=-1)
        return apply_mask(features + probs @ self.label_embedding, mask), logits

    def loss(self, logits: torch.Tensor, labels: torch.Tensor,
             mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``loss_match`` (cross-entropy over valid clips) and ``loss_ortho``
        (:func:`label_orthogonality_loss` of ``E``)."""
        return dict(loss_match=masked_tag_cross_entropy(logits, labels, mask),
                    loss_ortho=label_orthogonality_loss(self.label_embedding))
