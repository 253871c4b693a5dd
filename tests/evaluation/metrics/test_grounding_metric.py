import json

import numpy as np
import pytest
import torch

from mmemtm.evaluation import GroundingMetric
from mmemtm.structures import temporal_iou


def sample(pred, gt=(10.0, 20.0), duration=100.0, v_len=10, scores=None, query_id='v#0'):
    out = dict(pred_moments=torch.tensor(pred, dtype=torch.float64), gt_time=list(gt),
               duration=duration, v_len=v_len, query_id=query_id, video_id='v', sentence='s')
    if scores is not None:
        out['pred_scores'] = torch.tensor(scores)
    return out


def evaluate(samples, **kwargs):
    metric = GroundingMetric(**kwargs)
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_hand_worked_top1():
    samples = [
        sample([[10, 20]]),  # IoU 1
        sample([[10, 15]]),  # IoU 0.5 exactly: a tie at the threshold counts
        sample([[13, 20]]),  # IoU 0.7 exactly
        sample([[0, 10]]),   # touching: IoU 0
        sample([[12, 15]]),  # IoU 0.3 exactly
    ]
    m = evaluate(samples)
    assert m == pytest.approx({'R1@0.3': 80.0, 'R1@0.5': 60.0, 'R1@0.7': 40.0,
                               'mIoU': 100 * (1 + 0.5 + 0.7 + 0 + 0.3) / 5})


def test_rounding_error_at_a_threshold_still_counts():
    # [0.2, 0.7] vs [0.2, 1.2] is IoU 0.5, computed in floating point as 0.49999999999999994
    assert float(temporal_iou([0.2, 0.7], [0.2, 1.2])) < 0.5
    m = evaluate([sample([[0.2, 0.7]], gt=(0.2, 1.2), duration=2.0)], iou_thrs=(0.5,))
    assert m['R1@0.5'] == 100.0


def test_zero_length_and_out_of_range_predictions():
    samples = [
        sample([[15, 15]]),     # zero length inside the moment: IoU 0
        sample([[90, 130]]),    # clipped to [90, 100]: IoU 0
        sample([[-20, 20]]),    # clipped to [0, 20]: IoU 10 / 20 = 0.5
        sample([[18, 12]]),     # end before start: IoU 0
    ]
    m = evaluate(samples, iou_thrs=(0.5,))
    assert m['R1@0.5'] == 25.0 and m['mIoU'] == pytest.approx(12.5)


def test_r5_uses_all_ranked_moments():
    samples = [sample([[0, 5], [50, 60], [10, 19], [1, 2], [3, 4], [10, 20]]),  # 6th ignored
               sample([[0, 5], [10, 20]])]  # fewer than 5 moments: all count
    m = evaluate(samples, iou_thrs=(0.5, 0.95))
    assert m['R1@0.5'] == 0.0
    assert m['R5@0.5'] == 100.0 and m['R5@0.95'] == 50.0


def test_r5_omitted_for_single_moment_models():
    assert 'R5@0.5' not in evaluate([sample([[10, 20]])])


def test_quantized_ground_truth():
    # GT [12, 18] s on a 10-clip grid of 100 s is clip span (1, 1) -> [10, 20] s
    samples = [sample([[10, 20]], gt=(12, 18))]
    assert evaluate(samples)['mIoU'] == pytest.approx(60.0)
    assert evaluate(samples, quantized_gt=True)['mIoU'] == pytest.approx(100.0)


def test_dump_file(tmp_path):
    out = tmp_path / 'sub' / 'preds.json'
    evaluate([sample([[10, 15], [0, 1]], scores=[0.9, 0.1])], dump_file=str(out))
    dumped = json.loads(out.read_text())
    assert dumped[0]['query_id'] == 'v#0'
    np.testing.assert_allclose(dumped[0]['ious'], [0.5, 0.0])
    assert dumped[0]['pred_scores'] == pytest.approx([0.9, 0.1])


def test_empty_prediction_is_an_error():
    with pytest.raises(ValueError, match='query v#0: no predicted moment'):
        evaluate([sample(np.zeros((0, 2)))])
