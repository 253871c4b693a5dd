"""The efficiency benchmark tool (mmemtm.benchmarks.efficiency) runs end to end on the tiny demo
setting with both backends and writes consistent results."""
import json

import pytest

from mmemtm.benchmarks.efficiency import results_table
from mmemtm.text import load_word_vocabulary

MODEL_KEYS = {'student', 'span_teacher', 'map_teacher', 'proposal_teacher', 'emtm_training'}
INFERENCE_KEYS = MODEL_KEYS - {'emtm_training'}


@pytest.fixture(scope='module')
def efficiency(tmp_path_factory, run_tool):
    folder = tmp_path_factory.mktemp('efficiency')
    out = folder / 'efficiency.json'
    proc = run_tool(['tools/analysis/benchmark_efficiency.py', '--settings', 'tacos_demo',
                     '--repeats', '2', '--warmup', '1', '--batch-size', '3',
                     '--queries-per-video', '4', '--budget', '20', '--threads', '1',
                     '--gemm-size', '256', '--onnx-dir', str(folder / 'onnx'),
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
    assert set(goals['latency_vs_span_teacher']['values']) == {'torch', 'onnxruntime'}
    assert isinstance(goals['student_floor']['met'], bool)
    assert isinstance(goals['student_end_to_end']['met'], bool)


def test_efficiency_timings_per_backend(efficiency):
    results, stdout = efficiency
    models = results['settings']['tacos_demo']['models']
    for key in MODEL_KEYS:
        backends = models[key]['backends']
        assert set(backends) == ({'torch', 'onnxruntime'} if key in INFERENCE_KEYS
                                 else {'torch'})
        for timing in backends.values():
            latency, throughput = timing['latency_b1'], timing['throughput']
            assert latency['batch'] == 1 and latency['runs'] >= 1
            assert 0 < latency['min_ms'] <= latency['median_ms'] <= latency['max_ms']
            assert 1 <= throughput['batch'] <= 3 and throughput['queries_per_s'] > 0
            assert timing['x_floor'] == pytest.approx(latency['median_ms'] / timing['floor_ms'])
        if key in INFERENCE_KEYS:
            assert 0 <= models[key]['onnx']['parity_max_abs_diff'] <= 1e-4
    student = models['student']['backends']
    for backend in ('torch', 'onnxruntime'):
        one_video = student[backend]['one_video']
        assert one_video['encodes_video_once'] and one_video['once']['batch'] == 4
        assert one_video['speedup'] == pytest.approx(one_video['repeated']['median_ms']
                                                     / one_video['once']['median_ms'])
    assert not models['span_teacher']['backends']['onnxruntime']['one_video'][
        'encodes_video_once']
    assert 'previous_release_b1' in student['torch']
    assert 'one_video' not in models['emtm_training']['backends']['torch']
    assert 'per module: EMTM student' in stdout and 'x floor' in stdout


def test_results_table_for_scripts(efficiency):
    results, _ = efficiency
    setting = results['settings']['tacos_demo']
    assert results['results'] == results_table(results['settings'])
    row = results['results']['tacos_demo']['student']['onnxruntime']
    timing = setting['models']['student']['backends']['onnxruntime']
    assert row['latency_ms_median'] == timing['latency_b1']['median_ms']
    assert row['macs'] == setting['models']['student']['flops']['per_query']
    rate = setting['gemm']['used']['macs_per_s']
    assert row['floor_ms'] == pytest.approx(1e3 * row['macs'] / rate)
    assert results['settings']['tacos_demo']['decoding']['same_spans']
