"""Paired bootstrap intervals over queries, and over seeds then queries."""
import numpy as np
import pytest

from mmemtm.benchmarks.statistics import paired_bootstrap, per_seed_deltas, two_level_bootstrap


def _runs(seed_shift):
    """A baseline and a row that is better by 10 points on the same queries, plus a
    seed-dependent offset of the row's gain (``seed_shift`` points per seed)."""
    rng = np.random.default_rng(0)
    base = (rng.random((3, 400)) < 0.4).astype(float)
    row = base.copy()
    row[:, :40] = 1.0
    for s in range(3):
        row[s, 400 - int(seed_shift * 4 * s):] = 1.0
    return row, base


@pytest.mark.parametrize('bootstrap', [paired_bootstrap, two_level_bootstrap])
def test_intervals_are_centred_on_the_paired_difference(bootstrap):
    row, base = _runs(0)
    mean, low, high = bootstrap(row, base, num=2000)
    assert mean == pytest.approx(100 * (row - base).mean())
    assert low < mean < high and low > 0
    assert bootstrap(base, base, num=200) == (0.0, 0.0, 0.0)


def test_the_two_level_interval_covers_seed_variation():
    row, base = _runs(seed_shift=5)
    deltas = per_seed_deltas(row, base)
    assert deltas[2] - deltas[0] > 5
    queries_only = paired_bootstrap(row, base, num=2000)
    both = two_level_bootstrap(row, base, num=2000)
    assert both[0] == pytest.approx(queries_only[0])
    assert both[2] - both[1] > 1.5 * (queries_only[2] - queries_only[1])


@pytest.mark.parametrize('bootstrap', [paired_bootstrap, two_level_bootstrap, per_seed_deltas])
def test_unpaired_shapes_are_refused(bootstrap):
    with pytest.raises(ValueError, match='seeds, queries'):
        bootstrap(np.ones((2, 5)), np.ones((2, 4)))
