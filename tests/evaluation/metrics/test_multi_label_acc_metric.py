"""MultiLabelAccMetric: top-k on the classes, mAP on the multi-label targets."""
import numpy as np
import pytest
import torch
from mmaction.structures import ActionDataSample

from mmemtm.evaluation.metrics import MultiLabelAccMetric, multi_label_accuracy


def sample(scores, label, multi):
    s = ActionDataSample().set_gt_label(label)
    s.set_pred_score(torch.tensor(scores))
    s.set_metainfo(dict(multi_label=np.array(multi, np.float32)))
    return s.to_dict()


def test_top1_and_map_of_a_small_set():
    # sample 0: class 0 first (hit), class 1 also a target; sample 1: class 2 ranked second
    metric = MultiLabelAccMetric(topk=(1, 2))
    metric.process(None, [sample([0.6, 0.3, 0.1], 0, [1, 1, 0]),
                          sample([0.5, 0.1, 0.4], 2, [0, 0, 1])])
    result = metric.compute_metrics(metric.results)
    assert result['top1'] == 50.0
    assert result['top2'] == 100.0
    # AP: class 0 positive only in sample 0 (ranked first: 1); class 1 (first: 1); class 2
    # positive in sample 1 (ranked first of its scores 0.4 > 0.1: 1)
    assert result['mAP'] == pytest.approx(100.0)


def test_ranking_a_negative_first_halves_the_ap():
    scores = np.array([[0.9], [0.8]])
    out = multi_label_accuracy(scores, np.array([0, 0]), np.array([[0.0], [1.0]]), topk=(1, ))
    assert out['mAP'] == pytest.approx(50.0)


def test_a_sample_without_multi_label_is_named():
    s = ActionDataSample().set_gt_label(0)
    s.set_pred_score(torch.tensor([1.0, 0.0]))
    with pytest.raises(KeyError, match='multi_label'):
        MultiLabelAccMetric().process(None, [s.to_dict()])
