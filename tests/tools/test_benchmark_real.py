"""tools/analysis/benchmark_real.py --stage report: the table, the sweep and the figures from the
stored results (no training)."""
import pytest

from mmemtm.benchmarks.real_grounding import BASELINE, RealBenchmark


TOOL = 'tools/analysis/benchmark_real.py'


def test_report_from_stored_results(tmp_path, monkeypatch, repo_root, shared_data, load_tool):
    monkeypatch.chdir(repo_root)
    bench = RealBenchmark(str(tmp_path), seeds=[0, 1])
    queries = [f'q{i}' for i in range(40)]
    for seed in (0, 1):
        _, settings = bench.student(BASELINE, seed, None)
        ious = {q: 0.6 if (i + seed) % 2 else 0.1 for i, q in enumerate(queries)}
        bench.store.put(BASELINE, settings, dict(
            test={'R1@0.3': 50.0 + seed, 'R1@0.5': 50.0, 'R1@0.7': 10.0, 'mIoU': 35.0,
                  'minutes': 9.0}, best_val=30.0, ious=ious, val_curve=[20.0, 28.0, 30.0]))
    report = load_tool(TOOL).main(['--work-dir', str(tmp_path), '--seeds', '0', '1',
                                    '--stage', 'report'])
    assert f'| {BASELINE} | 2 | 50.5 ± 0.7 | 50.0 ± 0.0 |' in report
    assert '| 1, 1 | not run |' in report
    for figure in ('results.png', 'val_curves.png'):
        assert (tmp_path / figure).stat().st_size > 1000
    assert (tmp_path / 'results.md').read_text() == report


def test_rows_need_the_sweep_or_a_setting(tmp_path, monkeypatch, repo_root, shared_data,
                                          load_tool):
    monkeypatch.chdir(repo_root)
    with pytest.raises(RuntimeError, match='KD sweep has not run'):
        load_tool(TOOL).main(['--work-dir', str(tmp_path), '--stage', 'rows',
                               '--rows', 'KD: plain average of the three'])
