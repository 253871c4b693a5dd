"""Recall at IoU thresholds and mean IoU of predicted moments."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmemtm.structures import index_to_time, temporal_iou, time_to_index
from mmemtm.utils import dump_json_atomic

#: Tolerance of the ``IoU >= threshold`` test, so that a tie computed with rounding error
#: (e.g. 0.30000000000000004 vs 0.29999999999999993) still counts.
IOU_TOLERANCE = 1e-9


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def gt_moment(sample: Dict[str, Any], quantized: bool) -> np.ndarray:
    """The ground-truth moment ``[2]`` in seconds: annotated, or rounded to the clip grid."""
    start, end = sample['gt_time']
    if not quantized:
        return np.array([start, end], dtype=np.float64)
    duration, v_len = sample['duration'], sample['v_len']
    return np.array(index_to_time(*time_to_index(start, end, duration, v_len), duration, v_len))


@METRICS.register_module()
class GroundingMetric(BaseMetric):
    """R{k}@IoU and mIoU of temporal sentence grounding.

    ``R{k}@t`` is the percentage of queries for which one of the top-``k`` predicted moments has
    IoU >= ``t`` with the ground truth; mIoU is 100 x the mean IoU of the top-1 moment. Predicted
    moments are clipped to the video ``[0, duration]``; one with end < start has IoU 0. A tie
    at a threshold counts as a hit (up to :data:`IOU_TOLERANCE` of rounding error). R{k} for
    ``k > 1`` is reported only when the model returns more than one moment per query (with fewer
    than ``k`` moments, all of them count).

    Data samples need ``pred_moments`` (``[K, 2]`` seconds, best first), ``gt_time``,
    ``duration``, and for ``quantized_gt`` also ``v_len``.

    Args:
        iou_thrs: IoU thresholds.
        topk: Ranks at which recall is reported.
        quantized_gt: Compare against the ground truth rounded to clip boundaries (the EMTM
            reference code's protocol) instead of the annotated times.
        dump_file: Write per-query predictions, IoUs and the ground truth to this JSON file.
        collect_device: Device used to gather results across processes.
        prefix: Prefix of the metric names.
    """

    default_prefix: Optional[str] = None

    def __init__(self,
                 iou_thrs: Sequence[float] = (0.3, 0.5, 0.7),
                 topk: Sequence[int] = (1, 5),
                 quantized_gt: bool = False,
                 dump_file: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.iou_thrs = tuple(float(t) for t in iou_thrs)
        self.topk = tuple(sorted(set(int(k) for k in topk)))
        if not self.topk or self.topk[0] < 1:
            raise ValueError(f'topk must hold positive ranks, got {topk}')
        self.quantized_gt = quantized_gt
        self.dump_file = dump_file

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            moments = _to_numpy(sample['pred_moments']).reshape(-1, 2)
            if len(moments) == 0:
                raise ValueError(f'query {sample.get("query_id")}: no predicted moment')
            duration = float(sample['duration'])
            moments = np.clip(moments, 0.0, duration)
            gt = gt_moment(sample, self.quantized_gt)
            result = dict(
                query_id=sample.get('query_id'),
                video_id=sample.get('video_id'),
                sentence=sample.get('sentence'),
                duration=duration,
                gt=gt.tolist(),
                pred_moments=moments.tolist(),
                ious=temporal_iou(moments, gt).tolist())
            if 'pred_scores' in sample:
                result['pred_scores'] = _to_numpy(sample['pred_scores']).reshape(-1).tolist()
            self.results.append(result)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        max_moments = max(len(r['ious']) for r in results)
        metrics: Dict[str, float] = {}
        for k in self.topk:
            if k > 1 and max_moments == 1:
                continue
            best = np.array([max(r['ious'][:k]) for r in results])
            for thr in self.iou_thrs:
                metrics[f'R{k}@{thr:g}'] = float(100.0 * np.mean(best >= thr - IOU_TOLERANCE))
        metrics['mIoU'] = float(100.0 * np.mean([r['ious'][0] for r in results]))
        if self.dump_file:
            dump_json_atomic(results, self.dump_file, indent=1)
            MMLogger.get_current_instance().info(
                f'per-query predictions of {len(results)} queries written to {self.dump_file}')
        return metrics
