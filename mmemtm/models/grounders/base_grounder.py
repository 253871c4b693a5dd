"""Base class of every grounding model (teachers, students, baselines)."""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel

from mmemtm.structures import GroundingDataSample


class BaseGrounder(BaseModel, metaclass=ABCMeta):
    """A model that grounds sentences in videos.

    ``inputs`` is the dict made by :class:`GroundingDataPreprocessor` (``video`` ``[B, L, D]``,
    ``video_mask`` ``[B, L]``, ``words`` ``[B, N]``, ``word_mask`` ``[B, N]``, ``chars``
    ``[B, N, C]``, optional ``teacher_curves`` and ``targets``).

    Subclasses implement :meth:`loss` and :meth:`predict_spans`; predictions are turned into
    moments in seconds here.

    Args:
        data_preprocessor: Config of the data preprocessor.
        init_cfg: Initialisation config.
    """

    def __init__(self, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)

    def forward(self, inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List[GroundingDataSample]] = None,
                mode: str = 'tensor') -> Union[Dict[str, torch.Tensor], List[GroundingDataSample],
                                               Dict[str, torch.Tensor]]:
        if mode == 'loss':
            if 'targets' not in inputs:
                raise ValueError('training needs targets: add BuildGroundingTargets to the '
                                 'pipeline')
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.predict_spans(inputs)
        raise ValueError(f'invalid mode {mode!r}; expected "loss", "predict" or "tensor"')

    @abstractmethod
    def loss(self, inputs: Dict[str, torch.Tensor],
             data_samples: Optional[List[GroundingDataSample]]) -> Dict[str, torch.Tensor]:
        """Dict of loss terms (mmengine sums the keys containing ``loss``)."""

    @abstractmethod
    def predict_spans(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Ranked clip spans: ``spans`` ``[B, K, 2]`` (inclusive indices, long) and ``scores``
        ``[B, K]``; optionally ``start_prob`` / ``end_prob`` ``[B, L]``."""

    def predict(self, inputs: Dict[str, torch.Tensor],
                data_samples: List[GroundingDataSample]) -> List[GroundingDataSample]:
        """Moments in seconds: sets ``pred_moments`` ``[K, 2]`` and ``pred_scores`` ``[K]``."""
        out = self.predict_spans(inputs)
        v_lens = inputs['video_mask'].sum(1).long()
        for b, sample in enumerate(data_samples):
            spans, scores = out['spans'][b], out['scores'][b]
            v_len = int(v_lens[b])
            keep = (spans[:, 0] <= spans[:, 1]) & (spans[:, 1] < v_len)
            spans, scores = spans[keep], scores[keep]
            clip = float(sample.duration) / v_len
            moments = torch.stack([spans[:, 0].float() * clip, (spans[:, 1] + 1).float() * clip],
                                  dim=-1)
            sample.pred_moments = moments.detach().cpu()
            sample.pred_scores = scores.detach().cpu()
            for key in ('start_prob', 'end_prob'):
                if key in out:
                    sample.set_field(out[key][b, :v_len].detach().cpu(), key)
        return data_samples
