"""The weakly-supervised benchmark's bookkeeping and statistics (no training)."""
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmemtm.benchmarks.weak_grounding import (BASELINE, CONTROL_STUDENT, DISTILLED, PRIOR, ROWS,
                                              TEACHER, WeakBenchmark, comparison_table,
                                              markdown_table, median_span_prior, metrics_of,
                                              paired, summary_rows)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def annotations(path, rows):
    path.write_text(json.dumps(rows))
    return str(path)


def test_the_median_span_prior_uses_the_train_spans_relative_to_each_video(tmp_path):
    train = annotations(tmp_path / 'train.json', [['a', 10.0, [1.0, 4.0], 'x'],
                                                  ['b', 20.0, [4.0, 8.0], 'y'],
                                                  ['c', 10.0, [2.0, 5.0], 'z']])
    test = annotations(tmp_path / 'test.json', [['d', 30.0, [6.0, 12.0], 'x'],
                                                ['e', 10.0, [7.0, 9.0], 'y']])
    ious = median_span_prior(train, test)
    # medians: start 0.2, end 0.4 of the video -> d: 6-12 s (IoU 1), e: 2-4 s (IoU 0)
    assert ious == pytest.approx({'d#0': 1.0, 'e#0': 0.0})
    metrics = metrics_of(ious)
    assert metrics['R1@0.5'] == pytest.approx(50.0) and metrics['mIoU'] == pytest.approx(50.0)


def fake_runs(rate: float, seeds=(0, 1, 2), queries=200, seed=0):
    rng = np.random.default_rng(seed)
    runs = {}
    for s in seeds:
        ious = {f'q{i}': float(rng.random() < rate) for i in range(queries)}
        runs[s] = dict(test=dict(metrics_of(ious), minutes=2.0), ious=ious)
    return runs


def test_paired_comparisons_cover_the_common_seeds_and_find_a_clear_gain():
    found = {BASELINE: fake_runs(0.2), DISTILLED: fake_runs(0.6, seed=1),
             CONTROL_STUDENT: fake_runs(0.2, seeds=(0, 1), seed=2)}
    gain = paired(found, DISTILLED, BASELINE)
    assert gain['seeds'] == [0, 1, 2] and gain['ci'][1] > 20
    assert len(gain['deltas']) == 3
    assert paired(found, CONTROL_STUDENT, DISTILLED)['seeds'] == [0, 1]
    assert paired(found, TEACHER, BASELINE) is None
    rows = summary_rows(found)
    assert [r['row'] for r in rows] == [BASELINE, DISTILLED, CONTROL_STUDENT]
    assert 'ci' not in rows[0] and rows[1]['ci'][0] > 20
    table = markdown_table(rows)
    assert table.count('\n') == len(rows) + 1 and '| 3 |' in table
    comparisons = comparison_table(found)
    assert f'{DISTILLED} vs {BASELINE}' in comparisons
    assert f'{DISTILLED} vs {CONTROL_STUDENT}' in comparisons
    assert TEACHER not in comparisons


def test_the_sweep_seed_is_kept_apart_from_the_row_seeds(tmp_path):
    with pytest.raises(ValueError, match='sweep seed'):
        WeakBenchmark(str(tmp_path), seeds=(0, 100))


def test_distilling_rows_name_their_teacher_row():
    for name, row in ROWS.items():
        assert row.teacher is None or ROWS[row.teacher].teacher is None
        assert osp.isfile(osp.join(REPO, row.config)), name
    assert ROWS[DISTILLED].swept and ROWS[CONTROL_STUDENT].teacher != ROWS[DISTILLED].teacher


def test_reporting_never_trains_a_missing_teacher(shared_data, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    init_default_scope('mmaction')
    bench = WeakBenchmark(str(tmp_path), seeds=(0, ), epochs=1)
    monkeypatch.setattr(bench, 'run', lambda *a, **k: pytest.fail('a report trained a model'))
    found = bench.collect(list(ROWS))
    assert list(found) == [PRIOR]
    with pytest.raises(LookupError, match='has not run'):
        bench.row_config(DISTILLED, 0, (1.0, 1.0), train=False)
    _, settings = bench.row_config(BASELINE, 0)
    assert settings['epochs'] == 1 and settings['seed'] == 0


def test_teachers_train_once_and_a_single_weight_pair_is_not_swept(tmp_path, monkeypatch):
    bench = WeakBenchmark(str(tmp_path), seeds=(3, 4), epochs=1)
    calls = []
    monkeypatch.setattr(bench, 'run_row', lambda row, seed: calls.append((row, seed)))
    bench.run_rows([BASELINE, TEACHER, DISTILLED])
    assert calls == [(BASELINE, 3), (TEACHER, 3), (DISTILLED, 3), (BASELINE, 4), (DISTILLED, 4)]
    assert bench.chosen_weights() == (1.0, 1.0) and bench.sweep() == {(1.0, 1.0): None}


def test_teacher_rows_run_at_every_teacher_seed_and_students_keep_the_teacher_seed(tmp_path,
                                                                                   monkeypatch):
    bench = WeakBenchmark(str(tmp_path), seeds=(0, 1, 2), epochs=1, teacher_seeds=(0, 1, 2))
    assert bench.teacher_seed == 0 and bench.teacher_seeds == [0, 1, 2]
    calls = []
    monkeypatch.setattr(bench, 'run_row', lambda row, seed: calls.append((row, seed)))
    bench.run_rows([TEACHER, DISTILLED], seeds=(1, 2))
    assert calls == [(TEACHER, 1), (DISTILLED, 1), (TEACHER, 2), (DISTILLED, 2)]
    with pytest.raises(ValueError, match='teacher seed'):
        WeakBenchmark(str(tmp_path), seeds=(0, 1), teacher_seed=0, teacher_seeds=(1, 2))


def test_the_teacher_rows_and_their_branches_are_collected_and_paired_per_seed(tmp_path,
                                                                               monkeypatch):
    bench = WeakBenchmark(str(tmp_path), seeds=(0, 1, 2), epochs=1)
    teacher_runs, branch_runs = fake_runs(0.6, seed=3), fake_runs(0.4, seed=4)
    baseline_runs = fake_runs(0.2, seed=5)

    def stored(row, seed):
        return {TEACHER: teacher_runs, BASELINE: baseline_runs}.get(row, {}).get(seed)

    def stored_branch(row, seed, branch):
        return branch_runs[seed] if row == TEACHER and branch == 'appearance' else None

    monkeypatch.setattr(bench, 'prior', lambda: fake_runs(0.1, seeds=(0, ))[0])
    monkeypatch.setattr(bench, '_stored', stored)
    monkeypatch.setattr(bench, '_stored_branch', stored_branch)
    found = bench.collect([BASELINE, TEACHER])
    branch = f'{TEACHER}, appearance branch'
    assert sorted(found[TEACHER]) == [0, 1, 2] and sorted(found[branch]) == [0, 1, 2]
    gain = paired(found, TEACHER, branch)
    assert gain['seeds'] == [0, 1, 2] and gain['ci'][1] > 5
    assert f'| {TEACHER} vs {branch} | 0, 1, 2 |' in comparison_table(found)


def test_own_teacher_rows_distil_the_teacher_of_their_own_seed(shared_data, tmp_path,
                                                               monkeypatch):
    from mmemtm.benchmarks.weak_grounding import CONTROL_STUDENT_OWN, DISTILLED_OWN
    monkeypatch.chdir(REPO)
    init_default_scope('mmaction')
    bench = WeakBenchmark(str(tmp_path), seeds=(0, 1), epochs=1)
    checkpoint = tmp_path / 'teacher.pth'
    checkpoint.write_bytes(b'0')
    calls = []

    def run_row(row, seed):
        calls.append((row, seed))
        return dict(checkpoint=str(checkpoint))

    monkeypatch.setattr(bench, 'run_row', run_row)
    bench.row_config(DISTILLED, 1, (1.0, 1.0))
    bench.row_config(DISTILLED_OWN, 1, (1.0, 1.0))
    assert calls == [(TEACHER, 0), (TEACHER, 1)]
    assert ROWS[CONTROL_STUDENT_OWN].teacher == ROWS[CONTROL_STUDENT].teacher
    assert ROWS[DISTILLED_OWN].config == ROWS[DISTILLED].config
