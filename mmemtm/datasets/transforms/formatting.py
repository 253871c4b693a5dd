"""Packing of a query into model inputs and a :class:`GroundingDataSample`."""
from typing import Sequence

import torch
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from mmemtm.structures import TARGET_KEYS, GroundingDataSample

#: Per-sample arrays that become model inputs (result key -> input key).
INPUT_KEYS = {'video_feats': 'video', 'word_ids': 'words', 'char_ids': 'chars',
              'teacher_curves': 'teacher_curves', 'aggregator_curves': 'aggregator_curves'}


@TRANSFORMS.register_module()
class PackGroundingInputs(BaseTransform):
    """Pack features, ids and targets.

    Returns ``dict(inputs=dict(video=[v_len, D], words=[N], chars=[N, C]
    [, teacher_curves=[T, 2, v_len], aggregator_curves=[T, 2, v_len]]), data_samples=GroundingDataSample)``. Targets present in
    the results (``gt_span``, ``start_label``, ``end_label``, ``match_label``) become data fields.

    Args:
        meta_keys: Result keys copied to the data sample's meta information; ``timestamp`` is
            stored as ``gt_time``.
    """

    def __init__(self, meta_keys: Sequence[str] = ('query_id', 'video_id', 'ann_index',
                                                   'sentence', 'duration', 'timestamp',
                                                   'num_clips', 'v_len')) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        inputs = {dst: torch.as_tensor(results[src]) for src, dst in INPUT_KEYS.items()
                  if src in results}
        sample = GroundingDataSample()
        sample.set_metainfo({('gt_time' if k == 'timestamp' else k): results[k]
                             for k in self.meta_keys if k in results})
        for key in TARGET_KEYS:
            if key in results:
                sample.set_field(torch.as_tensor(results[key]), key)
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
