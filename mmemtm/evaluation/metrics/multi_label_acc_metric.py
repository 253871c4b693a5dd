"""Top-k accuracy on the single labels and mAP on the multi-label targets of one sample set."""
from typing import Dict, List, Sequence

import numpy as np
from mmaction.evaluation import mean_average_precision, top_k_accuracy
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric


def multi_label_accuracy(scores: np.ndarray, labels: np.ndarray, multi_labels: np.ndarray,
                         topk: Sequence[int] = (1, 5)) -> Dict[str, float]:
    """``top{k}`` (%) of the classes ``labels [N]`` and ``mAP`` (%) of the 0/1 targets
    ``multi_labels [N, C]`` given scores ``[N, C]``, with mmaction's ``top_k_accuracy`` and
    ``mean_average_precision``."""
    scores = np.asarray(scores, np.float64)
    accuracies = top_k_accuracy(list(scores), np.asarray(labels).tolist(), tuple(topk))
    metrics = {f'top{k}': 100 * float(a) for k, a in zip(topk, accuracies)}
    metrics['mAP'] = 100 * float(mean_average_precision(
        list(scores), list(np.asarray(multi_labels, np.float64))))
    return metrics


@METRICS.register_module()
class MultiLabelAccMetric(BaseMetric):
    """Top-k accuracy (%) of each sample's class and mAP (%) over classes of its multi-label
    target, both with mmaction's functions (``top_k_accuracy``, ``mean_average_precision``: the
    mean AP of the classes with at least one positive sample).

    mmaction's ``AccMetric`` takes one label field for both (a class index or a many-hot
    vector); here the class is ``gt_label`` and the target the ``multi_label`` metainfo
    (``[num_classes]`` 0/1, e.g. of :class:`~mmemtm.datasets.CharadesActionDataset`; add it to
    ``PackActionInputs``' ``meta_keys``). Scores are the samples' ``pred_score``.

    Args:
        topk: The ``k`` of the top-k accuracies.
        collect_device: mmengine's collect device.
        prefix: Prefix of the metric names (default ``'acc'``: ``acc/top1``, ``acc/mAP``).
    """
    default_prefix = 'acc'

    def __init__(self, topk: Sequence[int] = (1, 5), collect_device: str = 'cpu',
                 prefix: str = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = tuple(topk)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'multi_label' not in sample:
                raise KeyError("MultiLabelAccMetric needs each sample's 'multi_label': add it "
                               "to meta_keys of PackActionInputs")
            self.results.append(dict(
                score=sample['pred_score'].cpu().numpy().astype(np.float64),
                label=int(sample['gt_label'].item()),
                multi_label=np.asarray(sample['multi_label'], np.float64)))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        return multi_label_accuracy(np.stack([r['score'] for r in results]),
                                    np.array([r['label'] for r in results]),
                                    np.stack([r['multi_label'] for r in results]), self.topk)
