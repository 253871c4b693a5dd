"""The efficiency and training-cost benchmarks run end to end on tiny settings and write
consistent results."""
import json

import pytest

from mmemtm.text import load_word_vocabulary

MODEL_KEYS = {'student', 'span_teacher', 'map_teacher', 'proposal_teacher', 'emtm_training'}


@pytest.fixture(scope='module')
def efficiency(tmp_path_factory, run_tool):
    out = tmp_path_factory.mktemp('efficiency') / 'efficiency.json'
    proc = run_tool(['tools/analysis/benchmark_efficiency.py', '--settings', 'tacos_demo',
                     '--repeats', '2', '--warmup', '1', '--batch-size', '3',
                     '--queries-per-video', '4', '--budget', '20', '--threads', '1',
                     '--out', str(out)])
    return json.loads(out.read_text()), proc.stdout


def test_efficiency_sizes_and_flops(efficiency, demo_root):
    results, _ = efficiency
    assert results['setup']['torch_threads'] == 1 and results['setup']['devices'][0] == 'cpu'
    assert len(results['setup']['load_average_start']) == 3
    setting = results['settings']['tacos_demo']
    assert setting['inputs']['max_vlen'] == 64 and setting['inputs']['words'] == 9
    models = setting['models']
    assert set(models) == MODEL_KEYS
    glove = len(load_word_vocabulary(str(demo_root / 'glove'))) * 300
    for key in ('student', 'span_teacher', 'emtm_training'):
        params = models[key]['params']
        assert params['total'] - params['trainable'] == glove  # frozen GloVe: total only
    flops = {key: models[key]['flops']['per_query'] for key in MODEL_KEYS}
    assert all(value > 0 for value in flops.values())
    assert flops['student'] < flops['emtm_training']
    assert flops['student'] < flops['span_teacher']  # SeqPAN adds dual attention blocks
    student = models['student']['flops']
    assert abs(sum(v for k, v in student['by_module'].items() if '.' not in k)
               - student['per_query']) < 1e-6 * student['per_query']
    assert student['by_module']['student'] > student['by_module']['encoder'] > 0
    assert 'dual_attention' in models['span_teacher']['flops']['by_module']
    assert 'aten::lstm' in models['map_teacher']['flops']['unsupported_ops']
    assert models['student']['flops_one_video']['per_query'] < flops['student']  # video once
    ratios = setting['ratios']
    assert ratios['span_teacher']['flops_ratio'] == pytest.approx(
        flops['student'] / flops['span_teacher'])
    goals = setting['goals']
    assert goals['flops_vs_span_teacher']['met'] == (ratios['span_teacher']['flops_ratio']
                                                     <= 0.5)
    assert isinstance(goals['latency_vs_span_teacher']['met'], bool)


def test_efficiency_timings(efficiency):
    results, stdout = efficiency
    models = results['settings']['tacos_demo']['models']
    for key in MODEL_KEYS:
        timing = models[key]['devices']['cpu']
        latency, throughput = timing['latency_b1'], timing['throughput']
        assert latency['batch'] == 1 and latency['runs'] >= 1
        assert 0 < latency['min_ms'] <= latency['median_ms'] <= latency['max_ms']
        assert 1 <= throughput['batch'] <= 3 and throughput['queries_per_s'] > 0
    one_video = models['student']['devices']['cpu']['one_video']
    assert one_video['encodes_video_once'] and one_video['once']['batch'] == 4
    assert one_video['speedup'] == pytest.approx(one_video['repeated']['median_ms']
                                                 / one_video['once']['median_ms'])
    assert not models['span_teacher']['devices']['cpu']['one_video']['encodes_video_once']
    assert 'one_video' not in models['emtm_training']['devices']['cpu']
    assert 'per module: EMTM student' in stdout and 'MACs/query' in stdout


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

