"""One figure per test query: ``tools/test.py CONFIG CKPT --show-dir DIR``."""
import os.path as osp
from typing import Any, Optional, Sequence

import numpy as np
from mmaction.registry import HOOKS
from mmengine.hooks import Hook

from mmemtm.structures import temporal_iou

from .grounding_figures import save_figure, video_grounding_figure


def query_figure_name(query_id: str, file_format: str = 'png') -> str:
    """File name of a query's figure: ``<video_id>_<ann_index>.<format>``."""
    return f'{query_id.replace("#", "_")}.{file_format}'


def query_figure(sample: Any):
    """The figure of one predicted :class:`GroundingDataSample`: its top moment and the true
    one on the time axis, and the model's start/end distributions (when it gives them)."""
    duration = float(sample.duration)
    pred = tuple(float(t) for t in sample.pred_moments[0]) if len(sample.pred_moments) else None
    gt = tuple(float(t) for t in sample.gt_time) if 'gt_time' in sample else None
    start, end = (np.asarray(sample.get(key, np.zeros(0)), dtype=np.float64)
                  for key in ('start_prob', 'end_prob'))
    clips = len(start) or int(sample.get('v_len', 1))
    note = str(sample.query_id)
    if pred is not None and gt is not None:
        note += f'   IoU of the top moment: {float(temporal_iou(np.array(pred), np.array(gt))):.2f}'
    return video_grounding_figure(str(sample.sentence), duration, pred, start, end,
                                  duration / max(clips, 1), gt=gt, note=note)


@HOOKS.register_module()
class GroundingVisualizationHook(Hook):
    """Saves a figure of each test query's prediction into ``out_dir`` (see :func:`query_figure`;
    file names from :func:`query_figure_name`).

    ``tools/test.py --show-dir DIR [--show-first N]`` adds it. A config that lists it in
    ``custom_hooks`` needs ``mmemtm.visualization`` in ``custom_imports`` (``import mmemtm`` does
    not import matplotlib).

    Args:
        out_dir: Folder of the figures (created).
        max_queries: Only the first this many queries (per process); None: all.
        file_format: Image format (extension), e.g. ``'png'`` or ``'pdf'``.
    """

    def __init__(self, out_dir: str, max_queries: Optional[int] = None,
                 file_format: str = 'png') -> None:
        if max_queries is not None and max_queries < 0:
            raise ValueError(f'max_queries must be >= 0 or None, got {max_queries}')
        self.out_dir = out_dir
        self.max_queries = max_queries
        self.file_format = file_format
        self.saved = 0

    def before_test(self, runner: Any) -> None:
        self.saved = 0

    def after_test_iter(self, runner: Any, batch_idx: int, data_batch: Any = None,
                        outputs: Optional[Sequence[Any]] = None) -> None:
        for sample in outputs or ():
            if self.max_queries is not None and self.saved >= self.max_queries:
                return
            path = osp.join(self.out_dir, query_figure_name(sample.query_id, self.file_format))
            save_figure(query_figure(sample), path)
            self.saved += 1
