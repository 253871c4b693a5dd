"""Fuzzing of the time conversions, the temporal IoU, clip down-sampling and the metric's IoU with
any numbers (NaN, infinities, negative, huge): the only exception is a ValueError with a message,
and results keep their documented ranges."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mmemtm.datasets.transforms import downsample_clips
from mmemtm.evaluation import GroundingMetric
from mmemtm.structures import index_to_time, temporal_iou, time_to_index

FUZZ = settings(deadline=None, max_examples=150)

any_floats = st.floats(allow_nan=True, allow_infinity=True)
sane_floats = st.floats(min_value=-1e3, max_value=1e4)
times = st.one_of(any_floats, sane_floats, st.integers(min_value=-10**12, max_value=10**12))
clip_counts = st.integers(min_value=-3, max_value=300)


def raises_clear_value_error(call):
    """Run ``call``; a ValueError must carry a message. Returns the result or None."""
    try:
        return call()
    except ValueError as exc:
        assert str(exc)
        return None


@FUZZ
@given(start=times, end=times, duration=times, num_clips=clip_counts)
def test_time_to_index(start, end, duration, num_clips):
    span = raises_clear_value_error(lambda: time_to_index(start, end, duration, num_clips))
    valid = all(math.isfinite(x) for x in (start, end, duration)) and duration > 0
    assert (span is not None) == (valid and num_clips >= 1 and end >= start)
    if span is not None:
        s_ind, e_ind = span
        assert isinstance(s_ind, int) and isinstance(e_ind, int)
        assert 0 <= s_ind <= e_ind < num_clips


@FUZZ
@given(s_ind=st.integers(-5, 400), e_ind=st.integers(-5, 400), duration=times,
       num_clips=clip_counts)
def test_index_to_time(s_ind, e_ind, duration, num_clips):
    moment = raises_clear_value_error(lambda: index_to_time(s_ind, e_ind, duration, num_clips))
    if moment is not None:
        start, end = moment
        assert 0 <= start < end <= duration * (1 + 1e-12)
        assert time_to_index(start, end, duration, num_clips) == (s_ind, e_ind)


moments = hnp.arrays(np.float64, st.tuples(st.integers(0, 4), st.just(2)), elements=times)


@FUZZ
@given(pred=moments, gt=st.one_of(moments, hnp.arrays(np.float64, (2,), elements=times)))
def test_temporal_iou(pred, gt):
    if gt.ndim == 2 and len(gt) != len(pred):
        gt = gt[:1] if len(gt) else np.zeros((1, 2))
    with np.errstate(all='raise'):
        iou = temporal_iou(pred, gt)
    assert iou.shape == np.broadcast_shapes(pred.shape, gt.shape)[:-1]
    assert np.all((iou >= 0) & (iou <= 1))
    np.testing.assert_array_equal(iou, temporal_iou(gt, pred))


@FUZZ
@given(moment=st.tuples(sane_floats, st.floats(min_value=1e-3, max_value=1e3)))
def test_temporal_iou_of_a_moment_with_itself_is_one(moment):
    start, length = moment
    pair = np.array([start, start + length])
    assert temporal_iou(pair, pair) == pytest.approx(1.0)


@FUZZ
@given(feats=hnp.arrays(np.float32, st.tuples(st.integers(0, 300), st.integers(1, 6)),
                        elements=st.floats(-1e6, 1e6, width=32)),
       max_vlen=st.integers(-2, 80))
def test_downsample_clips(feats, max_vlen):
    out = raises_clear_value_error(lambda: downsample_clips(feats, max_vlen))
    assert (out is None) == (max_vlen < 1)
    if out is None:
        return
    assert out.shape == (min(len(feats), max_vlen), feats.shape[1]) and out.dtype == feats.dtype
    if len(feats):
        tol = 1e-3 * (1 + np.abs(feats).max())
        assert np.all(out >= feats.min(0) - tol) and np.all(out <= feats.max(0) + tol)


@FUZZ
@given(feats=hnp.arrays(np.float64, st.tuples(st.integers(0, 100), st.integers(1, 4)),
                        elements=any_floats),
       max_vlen=st.integers(1, 40))
def test_downsample_clips_of_any_values_keeps_the_shape(feats, max_vlen):
    with np.errstate(all='ignore'):
        out = downsample_clips(feats, max_vlen)
    assert out.shape == (min(len(feats), max_vlen), feats.shape[1])


@FUZZ
@given(preds=hnp.arrays(np.float64, st.tuples(st.integers(0, 5), st.just(2)), elements=times),
       gt=st.tuples(times, times), duration=times, v_len=clip_counts,
       quantized=st.booleans())
def test_metric_iou(preds, gt, duration, v_len, quantized):
    metric = GroundingMetric(quantized_gt=quantized)
    sample = dict(query_id='v#0', pred_moments=preds, gt_time=list(gt), duration=duration,
                  v_len=v_len)
    with np.errstate(all='ignore'):
        processed = raises_clear_value_error(lambda: metric.process(None, [sample]) or True)
    if processed is None:
        assert len(preds) == 0 or quantized
        return
    (result,) = metric.results
    assert all(0 <= iou <= 1 for iou in result['ious'])
    scores = metric.compute_metrics(metric.results)
    assert all(0 <= v <= 100 for v in scores.values())
