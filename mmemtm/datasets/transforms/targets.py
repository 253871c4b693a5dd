"""Training targets on the clip grid (docs/method.md §2.3-2.4)."""
from typing import Tuple

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from mmemtm.structures import time_to_index

#: Matching tags of the begin/inside/end/outside head.
OUTSIDE, BEGIN, INSIDE, END = 0, 1, 2, 3


def soft_boundary_label(index: int, length: int, eps: float = 1e-10) -> np.ndarray:
    """Three-point soft label ``[length]`` centred on the boundary clip ``index``.

    Every clip gets ``eps``; ``index`` gets ``0.5 + eps``; its neighbours each get
    ``(1 - length * eps - 0.5) / 2``, which replaces their ``eps``. A neighbour outside the video
    gives its share to ``index`` instead. The label sums to ~1.
    """
    if not 0 <= index < length:
        raise ValueError(f'boundary clip {index} outside a {length}-clip video')
    label = np.full(length, eps, dtype=np.float64)
    label[index] += 0.5
    share = (1.0 - length * eps - 0.5) / 2
    for neighbour in (index - 1, index + 1):
        if 0 <= neighbour < length:
            label[neighbour] = share
        else:
            label[index] += share
    return label.astype(np.float32)


def match_labels(s_ind: int, e_ind: int, length: int, ext: int = 2) -> np.ndarray:
    """Begin/inside/end/outside tags ``[length]`` (int64) of the clip span ``(s_ind, e_ind)``.

    The begin region is ``s_ind +- ext`` and the end region ``e_ind +- ext`` (both clipped to the
    video); when the begin region reaches the end region it is cut back to
    ``max(s_ind, left(end) - 1)``. Clips strictly between the regions are inside; the end region
    is written last, so it wins where the two still overlap.
    """
    if not 0 <= s_ind <= e_ind < length:
        raise ValueError(f'clip span ({s_ind}, {e_ind}) invalid for {length} clips')
    b_left, b_right = max(0, s_ind - ext), min(s_ind + ext, length - 1)
    e_left, e_right = max(0, e_ind - ext), min(e_ind + ext, length - 1)
    if b_right >= e_left:
        b_right = max(s_ind, e_left - 1)
    tags = np.full(length, OUTSIDE, dtype=np.int64)
    tags[b_left:b_right + 1] = BEGIN
    tags[b_right + 1:e_left] = INSIDE
    tags[e_left:e_right + 1] = END
    return tags


def span_targets(start: float, end: float, duration: float, v_len: int,
                 ext: int = 2) -> Tuple[Tuple[int, int], np.ndarray, np.ndarray, np.ndarray]:
    """Clip span, soft start/end labels ``[v_len]`` and match tags ``[v_len]`` of a moment."""
    s_ind, e_ind = time_to_index(start, end, duration, v_len)
    return ((s_ind, e_ind), soft_boundary_label(s_ind, v_len), soft_boundary_label(e_ind, v_len),
            match_labels(s_ind, e_ind, v_len, ext))


@TRANSFORMS.register_module()
class BuildGroundingTargets(BaseTransform):
    """Build the training targets of a query on its ``v_len``-clip grid.

    Required keys: ``timestamp`` (seconds), ``duration``, ``v_len``.
    Added keys: ``gt_span`` (``[2]`` int64 clip indices), ``start_label`` / ``end_label``
    (``[v_len]`` float32), ``match_label`` (``[v_len]`` int64).

    Args:
        match_ext: Half-width of the begin/end regions of the match tags (EMTM 2, TSGVZoo 1).
    """

    def __init__(self, match_ext: int = 2) -> None:
        self.match_ext = match_ext

    def transform(self, results: dict) -> dict:
        start, end = results['timestamp']
        span, start_label, end_label, tags = span_targets(start, end, results['duration'],
                                                          results['v_len'], self.match_ext)
        results['gt_span'] = np.array(span, dtype=np.int64)
        results['start_label'] = start_label
        results['end_label'] = end_label
        results['match_label'] = tags
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(match_ext={self.match_ext})'
