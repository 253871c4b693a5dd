"""Base class of every grounding model (teachers, students, baselines)."""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Tuple, Union

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

    def predict_one_video(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Ranked spans of ``Q`` queries about ONE video (output as :meth:`predict_spans`).

        ``inputs`` holds ``video`` ``[1, L, Dv]`` and ``video_mask`` ``[1, L]`` once, and
        ``words`` ``[Q, N]``, ``chars`` ``[Q, N, C]``, ``word_mask`` ``[Q, N]``. This default
        repeats the video for every query; models whose video encoding does not depend on the
        query override it to encode the video once.
        """
        queries = inputs['words'].shape[0]
        return self.predict_spans(dict(inputs, video=inputs['video'].expand(queries, -1, -1),
                                       video_mask=inputs['video_mask'].expand(queries, -1)))

    def predict(self, inputs: Dict[str, torch.Tensor],
                data_samples: List[GroundingDataSample]) -> List[GroundingDataSample]:
        """Moments in seconds: sets ``pred_moments`` ``[K, 2]`` and ``pred_scores`` ``[K]``."""
        out = self.predict_spans(inputs)
        v_lens = inputs['video_mask'].sum(1).long()
        for b, sample in enumerate(data_samples):
            v_len = int(v_lens[b])
            moments, scores = spans_to_moments(out['spans'][b], out['scores'][b], v_len,
                                               float(sample.duration))
            sample.pred_moments = moments
            sample.pred_scores = scores
            for key in ('start_prob', 'end_prob'):
                if key in out:
                    sample.set_field(out[key][b, :v_len].detach().cpu(), key)
        return data_samples


def spans_to_moments(spans: torch.Tensor, scores: torch.Tensor, v_len: int,
                     duration: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """Ranked clip spans ``[K, 2]`` of a ``v_len``-clip grid -> moments ``[K', 2]`` in seconds
    and their scores ``[K']`` (on the CPU), dropping spans outside the video."""
    keep = (spans[:, 0] <= spans[:, 1]) & (spans[:, 1] < v_len)
    spans, scores = spans[keep], scores[keep]
    clip = duration / v_len
    moments = torch.stack([spans[:, 0].float() * clip, (spans[:, 1] + 1).float() * clip], dim=-1)
    return moments.detach().cpu(), scores.detach().cpu()
