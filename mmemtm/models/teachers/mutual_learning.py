"""The multi-modal weakly-supervised teacher with cross-modal mutual learning: our reading of
the teacher of Bao et al., "Local-Global Multi-Modal Distillation for Weakly-Supervised Temporal
Video Grounding" (AAAI 2024), of which only the abstract is public (``docs/weakly_supervised.md``).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmaction.registry import MODELS

from mmemtm.structures import GroundingDataSample
from ..grounders.weak_base import WeaklySupervisedGrounder
from ..grounders.weak_gaussian_grounder import (WeakGaussianGrounder, WeakOutputs,
                                                proposal_moments)
from ..utils import build_part
from ..utils.decoding import fractions_to_clip_spans, topk_moments

#: What :meth:`CrossModalMutualTeacher.predict_spans` ranks: the fused proposals of all
#: branches, or one branch's own (``'branch0'``, ``'branch1'``...).
FUSED = 'fused'


@MODELS.register_module()
class CrossModalMutualTeacher(WeaklySupervisedGrounder):
    """One weak grounder per modality, each trained with its weak loss, learning from each other.

    The batch's clip features ``[B, L, sum D_i]`` are the streams of ``input_streams``
    concatenated (``LoadFeatureStreams``); branch ``i`` (a :class:`WeakGaussianGrounder`) reads
    the ``i``-th chunk of its ``video_dim`` features. All branches reconstruct the same masked
    words.

    Losses: every branch's ``loss_rec`` and ``loss_ivc`` (``loss_b<i>_rec``...), and the mutual
    term ``loss_mutual``: each branch's semantic activation map (a distribution over clips) is
    pulled towards the average of the other branches' maps, which get no gradient from it
    (deep mutual learning: each branch learns from the others' proposals). ``loss_mutual=None``
    trains the branches side by side without learning from each other.

    Knowledge (:meth:`knowledge`): temporal boundaries, the union of the branches' proposals
    scored by each branch's proposal scores divided by the number of branches (so they sum to 1),
    and the semantic activation map, the average of the branches' maps.

    Args:
        vocab: GloVe subset folder or text file (filled into the branches).
        branches: Configs of the branches (``WeakGaussianGrounder``), one per stream.
        input_streams: Stream names, one per branch, in the order of the features.
        loss_mutual: Config of the mutual term (``MapDivergenceLoss``), or None.
        predict_with: :data:`FUSED` or ``'branch<i>'``: what :meth:`predict_spans` ranks.
        topk: Moments returned by :meth:`predict_spans`.
        nms_thr: IoU above which a lower-ranked proposal is suppressed.
        data_preprocessor: Config of the data preprocessor.
        init_cfg: Initialisation config.
    """

    def __init__(self, vocab: str, branches: Sequence[dict],
                 input_streams: Sequence[str] = ('appearance', 'motion'),
                 loss_mutual: Optional[dict] = dict(type='MapDivergenceLoss', divergence='kl',
                                                    loss_weight=1.0),
                 predict_with: str = FUSED, topk: int = 5, nms_thr: Optional[float] = 0.5,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(input_streams=input_streams, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if len(branches) != len(self.input_streams) or len(branches) < 2:
            raise ValueError(f'one branch per input stream, at least two: {len(branches)} '
                             f'branches for streams {list(self.input_streams)}')
        choices = [FUSED] + [f'branch{i}' for i in range(len(branches))]
        if predict_with not in choices:
            raise ValueError(f'predict_with must be one of {choices}, got {predict_with!r}')
        self.branches = nn.ModuleList(
            build_part(dict(cfg, input_streams=(name, )), dict(vocab=vocab),
                       f'branches[{i}]')
            for i, (cfg, name) in enumerate(zip(branches, self.input_streams)))
        if not all(isinstance(b, WeakGaussianGrounder) for b in self.branches):
            raise TypeError('every branch must be a WeakGaussianGrounder')
        self.loss_mutual = None if loss_mutual is None else build_part(loss_mutual, {},
                                                                       'loss_mutual')
        self.predict_with, self.topk, self.nms_thr = predict_with, topk, nms_thr

    def branch_inputs(self, inputs: Dict[str, torch.Tensor]) -> List[Dict[str, torch.Tensor]]:
        """The batch as each branch sees it: its chunk ``[B, L, D_i]`` of the features."""
        dims = [b.video_dim for b in self.branches]
        if inputs['video'].shape[-1] != sum(dims):
            raise ValueError(f'{type(self).__name__} takes the streams '
                             f'{list(self.input_streams)} of sizes {dims} concatenated '
                             f'({sum(dims)} features), got {inputs["video"].shape[-1]}')
        return [dict(inputs, video=chunk) for chunk in inputs['video'].split(dims, dim=-1)]

    def branch_outputs(self, inputs: Dict[str, torch.Tensor],
                       negatives: bool = True) -> List[WeakOutputs]:
        """Every branch's forward pass, all reconstructing the same masked words."""
        masked = self.branches[0].word_masks(inputs['word_mask'])
        return [branch.outputs(part, masked, negatives)
                for branch, part in zip(self.branches, self.branch_inputs(inputs))]

    def activation_maps(self, outs: Sequence[WeakOutputs],
                        video_mask: torch.Tensor) -> List[torch.Tensor]:
        """Each branch's semantic activation map ``[B, L]``."""
        return [b.activation_map(o, video_mask) for b, o in zip(self.branches, outs)]

    def loss(self, inputs: Dict[str, torch.Tensor],
             data_samples: Optional[List[GroundingDataSample]]) -> Dict[str, torch.Tensor]:
        """Each branch's weak losses and the mutual term."""
        outs = self.branch_outputs(inputs)
        losses = {}
        for i, (branch, out) in enumerate(zip(self.branches, outs)):
            for key, value in branch.weak_losses(out).items():
                losses[key.replace('loss_', f'loss_b{i}_')] = value
        if self.loss_mutual is not None:
            maps = self.activation_maps(outs, inputs['video_mask'])
            losses['loss_mutual'] = sum(
                self.loss_mutual(own, (sum(maps) - own) / (len(maps) - 1),
                                 inputs['video_mask']) for own in maps)
        return losses

    @torch.no_grad()
    def knowledge(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """The teacher's two kinds of knowledge of a batch (call in eval mode):
        ``moments`` ``[B, nK, 2]`` (fractions) and ``scores`` ``[B, nK]`` (summing to 1), the
        fused proposals of the ``n`` branches, and ``activation`` ``[B, L]``, the average of the
        branches' activation maps (a distribution over the valid clips)."""
        outs = self.branch_outputs(inputs, negatives=False)
        maps = self.activation_maps(outs, inputs['video_mask'])
        return dict(
            moments=torch.cat([proposal_moments(o.centres, o.widths) for o in outs], dim=1),
            scores=torch.cat([b.proposal_scores(o) for b, o in zip(self.branches, outs)],
                             dim=1) / len(outs),
            activation=sum(maps) / len(maps))

    def ranked_proposals(self, inputs: Dict[str, torch.Tensor]
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Moments ``[B, M, 2]`` (fractions) and scores ``[B, M]`` that ``predict_with``
        ranks."""
        if self.predict_with == FUSED:
            known = self.knowledge(inputs)
            return known['moments'], known['scores']
        index = int(self.predict_with[len('branch'):])
        return self.branches[index].scored_proposals(self.branch_inputs(inputs)[index])

    def predict_spans(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Top-``k`` moments after NMS as inclusive clip spans ``[B, k, 2]`` with ``scores``
        ``[B, k]``."""
        moments, scores = topk_moments(*self.ranked_proposals(inputs), self.topk, self.nms_thr)
        return dict(spans=fractions_to_clip_spans(moments, inputs['video_mask'].sum(1)),
                    scores=scores)
