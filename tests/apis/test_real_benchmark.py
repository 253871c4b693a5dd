"""The real-feature benchmark's statistics and bookkeeping (no training)."""
import numpy as np
import pytest

from mmemtm.apis.real_benchmark import (BASELINE, ROWS, markdown_table, paired_bootstrap,
                                        summary_rows, sweep_table)


def test_paired_bootstrap_is_centred_on_the_paired_difference():
    rng = np.random.default_rng(0)
    base = (rng.random((3, 400)) < 0.4).astype(float)
    better = base.copy()
    better[:, :40] = 1.0  # +10 points at most, exactly on the same queries
    mean, low, high = paired_bootstrap(better, base)
    assert mean == pytest.approx(100 * (better - base).mean())
    assert low < mean < high and low > 0
    same = paired_bootstrap(base, base)
    assert same == (0.0, 0.0, 0.0)


def test_paired_bootstrap_needs_matching_shapes():
    with pytest.raises(ValueError):
        paired_bootstrap(np.ones((2, 5)), np.ones((2, 4)))


def _results(seeds):
    queries = [f'v{i}#0' for i in range(50)]
    results = {'teacher/SeqPAN': dict(test={'R1@0.3': 50., 'R1@0.5': 30., 'R1@0.7': 10.,
                                            'mIoU': 33.}, ious={})}
    for s in seeds:
        for i, row in enumerate(ROWS):
            ious = {q: (0.6 if (j + i) % 3 else 0.2) for j, q in enumerate(queries)}
            r15 = 100 * np.mean([v >= 0.5 for v in ious.values()])
            results[f'{row}/seed{s}'] = dict(
                test={'R1@0.3': r15, 'R1@0.5': r15, 'R1@0.7': 0., 'mIoU': 40. + s}, ious=ious)
    results['sweep/kd_weight=1,T=1'] = dict(best_val=41.5)
    return results


def test_summary_rows_pair_every_row_with_the_student_alone():
    rows = summary_rows(_results([0, 1, 2]), [0, 1, 2])
    names = [r['row'] for r in rows]
    assert names[0] == 'teacher: SeqPAN' and BASELINE in names
    by_name = {r['row']: r for r in rows}
    assert 'ci' not in by_name[BASELINE] and 'ci' in by_name['EMTM (KAU)']
    assert by_name['EMTM (KAU)']['seeds'] == 3
    assert by_name[BASELINE]['mIoU'] == pytest.approx((41.0, 1.0))
    table = markdown_table(rows)
    assert table.count('\n') == len(rows) + 1 and '41.0 ± 1.0' in table
    assert '41.5' in sweep_table(_results([0]))
