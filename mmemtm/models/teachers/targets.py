"""Ground-truth moments of a batch, read from its data samples."""
from typing import List, Tuple

import numpy as np

from mmemtm.structures import GroundingDataSample


def annotated_moments(
        data_samples: List[GroundingDataSample]) -> Tuple[np.ndarray, np.ndarray]:
    """Annotated moments ``[B, 2]`` (seconds) and video durations ``[B]`` (seconds).

    Raises:
        KeyError: A sample lacks ``gt_time`` or ``duration`` (named by its query id).
    """
    moments, durations = [], []
    for sample in data_samples:
        if 'gt_time' not in sample or 'duration' not in sample:
            raise KeyError(f'query {sample.get("query_id", "?")}: training needs the meta '
                           'fields gt_time and duration')
        moments.append([float(t) for t in sample.gt_time])
        durations.append(float(sample.duration))
    return np.array(moments, dtype=np.float64), np.array(durations, dtype=np.float64)
