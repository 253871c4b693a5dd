import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmemtm.structures import index_to_time, temporal_iou, time_to_index

durations = st.floats(min_value=0.5, max_value=2000, allow_nan=False)
clip_counts = st.integers(min_value=1, max_value=40)
fractions = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def test_method_doc_examples():
    assert time_to_index(0.0, 6.9, 33.67, 64) == (0, 12)
    assert time_to_index(7.62, 12.18, 423.06, 256) == (5, 6)


def test_index_to_time_of_known_span():
    assert index_to_time(5, 6, 423.06, 256) == pytest.approx((5 * 423.06 / 256, 7 * 423.06 / 256))


def test_bad_grids_and_spans_are_rejected():
    with pytest.raises(ValueError, match='duration'):
        time_to_index(0, 1, 0.0, 4)
    with pytest.raises(ValueError, match='num_clips'):
        time_to_index(0, 1, 10.0, 0)
    with pytest.raises(ValueError, match='before its start'):
        time_to_index(2, 1, 10.0, 4)
    with pytest.raises(ValueError, match='not a valid span'):
        index_to_time(3, 2, 10.0, 4)


@settings(deadline=None, max_examples=200)
@given(durations, clip_counts, fractions, fractions)
def test_time_to_index_is_the_best_candidate(duration, num_clips, a, b):
    start, end = sorted((a * duration, b * duration))
    s, e = time_to_index(start, end, duration, num_clips)
    assert 0 <= s <= e < num_clips
    best = temporal_iou(index_to_time(s, e, duration, num_clips), [start, end])
    for i, j in itertools.combinations_with_replacement(range(num_clips), 2):
        other = temporal_iou(index_to_time(i, j, duration, num_clips), [start, end])
        assert other <= best + 1e-12


@settings(deadline=None, max_examples=200)
@given(durations, clip_counts, st.data())
def test_clip_spans_round_trip(duration, num_clips, data):
    s = data.draw(st.integers(0, num_clips - 1))
    e = data.draw(st.integers(s, num_clips - 1))
    assert time_to_index(*index_to_time(s, e, duration, num_clips), duration, num_clips) == (s, e)


moments = st.tuples(st.floats(-100, 100), st.floats(0, 100)).map(lambda t: (t[0], t[0] + t[1]))


@settings(deadline=None, max_examples=300)
@given(moments, moments)
def test_iou_is_symmetric_and_bounded(x, y):
    iou = float(temporal_iou(x, y))
    assert 0.0 <= iou <= 1.0
    assert iou == pytest.approx(float(temporal_iou(y, x)))


@settings(deadline=None, max_examples=300)
@given(moments, st.floats(0.01, 100), st.floats(-100, 100))
def test_iou_of_itself_is_one_and_invariant_to_affine_maps(x, scale, shift):
    if x[1] - x[0] < 1e-6:
        return
    assert float(temporal_iou(x, x)) == pytest.approx(1.0)
    y = (x[0] + 0.3 * (x[1] - x[0]), x[1] + 0.5)
    moved = [v * scale + shift for v in x], [v * scale + shift for v in y]
    assert float(temporal_iou(*moved)) == pytest.approx(float(temporal_iou(x, y)), abs=1e-9)


def test_iou_hand_cases():
    pred = np.array([[0, 1], [0.5, 2], [2, 2], [3, 1], [1, 3]])
    np.testing.assert_allclose(temporal_iou(pred, [0, 1]), [1.0, 0.25, 0.0, 0.0, 0.0])
    assert float(temporal_iou([2, 2], [2, 2])) == 0.0
