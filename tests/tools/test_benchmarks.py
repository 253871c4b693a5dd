"""The training-cost benchmark runs end to end on a tiny setting and writes consistent results
(the efficiency benchmark's tests: tests/apis/test_efficiency_benchmark.py)."""
import json

import pytest


@pytest.mark.slow
def test_training_benchmark(tmp_path, tiny_planted, tiny_cfg_options, run_tool):
    out = tmp_path / 'training.json'
    options = [*tiny_cfg_options(tiny_planted), 'model.video_dim=32']
    run_tool(['tools/analysis/benchmark_training.py', '--features',
              str(tiny_planted / 'features'), '--iters', '4', '--skip', '1', '--batch-size', '4',
              '--num-workers', '0', '1', '--profile-queries', '8', '--threads', '1',
              '--work-dir', str(tmp_path / 'runs'), '--out', str(out), '--cfg-options',
              *options])
    results = json.loads(out.read_text())
    assert set(results['runs']) == {'emtm', 'span_teacher', 'student'}
    assert len(results['setup']['curves']) == 3
    for runs in results['runs'].values():
        assert [run['num_workers'] for run in runs] == [0, 1]
        for run in runs:
            assert run['iters'] == 3 and run['batch_size'] == 8  # --cfg-options win
            assert run['time_median_ms'] > run['data_time_median_ms'] >= 0
            assert 0 <= run['data_share'] < 1
    profile = results['pipeline_profile']['emtm']
    assert profile['LoadTeacherCurves'] > 0 and profile['GroundingDataPreprocessor'] > 0
    assert 'LoadTeacherCurves' not in results['pipeline_profile']['student']

