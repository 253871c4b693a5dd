"""The recognition distillation benchmark's bookkeeping and statistics (no training)."""
import json
import os
import os.path as osp
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from mmemtm.apis.recognition_kd import (DistillerCheckpointError, strip_distiller_checkpoint,
                                        student_config)
from mmemtm.benchmarks.recognition_kd import (head_to_head, hits, markdown_table, summary_rows,
                                              training_time_lines, write_report)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _run(tmp_path, name, correct, labels):
    """A finished run whose test scores put the true class first on ``correct`` clips."""
    scores = np.full((len(labels), 10), 0.01, np.float32)
    for i, (label, ok) in enumerate(zip(labels, correct)):
        scores[i, label if ok else (label + 1) % 10] = 0.9
    path = tmp_path / f'{name}.npy'
    np.save(path, scores)
    top1 = 100 * float(np.mean(correct))
    return dict(test=dict(top1=top1, top5=100.0), test_scores=str(path),
                test_labels=list(labels), minutes=1.0)


def test_summary_pairs_rows_with_the_student_alone(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 200)
    results = {'teacher: I3D': dict(test=dict(top1=90.0, top5=99.0), minutes=2.0)}
    for seed in (0, 1):
        base = rng.random(200) < 0.6
        better = base | (rng.random(200) < 0.5)
        results[f'student alone/seed{seed}'] = _run(tmp_path, f'b{seed}', base, labels)
        results[f'GKD/seed{seed}'] = _run(tmp_path, f'g{seed}', better, labels)
        results[f'staged KD/seed{seed}'] = _run(tmp_path, f's{seed}', base, labels)
    assert hits(results, 'GKD', [0, 1]).shape == (2, 200)
    rows = {r['row']: r for r in summary_rows(results, [0, 1, 2])}
    assert set(rows) == {'teacher: I3D', 'student alone', 'GKD', 'staged KD'}
    mean, low, high = rows['GKD']['ci']
    assert low > 0 and low <= mean <= high
    assert rows['staged KD']['ci'][0] == 0.0
    assert rows['GKD']['seeds'] == 2 and 'ci' not in rows['student alone']
    assert all(d > 0 for d in rows['GKD']['seed_deltas'])
    assert head_to_head(results, [0, 1])[1] > 0
    table = markdown_table(list(rows.values()),
                           dict(teacher=dict(params=2e5, flops=2e7),
                                student=dict(params=1e5, flops=5e6)))
    assert '| GKD | 2 |' in table and '0.020' in table


def test_cis_cover_the_seeds_disagreeing(tmp_path):
    """Seed 0's distilled run gains 20 points, seed 1's loses 14: the mean is +3, but the CI
    must span 0 (a CI over test clips alone, of the seeds' mean difference, is about
    [+1, +5])."""
    clip = np.arange(400)
    labels, base = clip % 10, clip % 2 == 0  # the student alone: every other clip right
    gained = ~base & ((clip // 2) % 5 < 2)  # 80 of its wrong clips
    lost = base & ((clip // 2) % 50 < 14)  # 56 of its right clips
    results = {}
    for seed, row in ((0, base | gained), (1, base & ~lost)):
        results[f'student alone/seed{seed}'] = _run(tmp_path, f'b{seed}', base, labels)
        results[f'GKD/seed{seed}'] = _run(tmp_path, f'g{seed}', row, labels)
        results[f'staged KD/seed{seed}'] = _run(tmp_path, f's{seed}', base, labels)
    rows = {r['row']: r for r in summary_rows(results, [0, 1])}
    assert [round(d) for d in rows['GKD']['seed_deltas']] == [20, -14]
    mean, low, high = rows['GKD']['ci']
    assert mean == pytest.approx(3.0) and low < 0 < high
    mean, low, high, seeds = head_to_head(results, [0, 1])
    assert mean == pytest.approx(3.0) and low < 0 < high and seeds == 2


def test_strip_refuses_a_plain_checkpoint(tmp_path):
    path = tmp_path / 'plain.pth'
    torch.save({'state_dict': {'backbone.w': torch.zeros(1)}}, path)
    with pytest.raises(DistillerCheckpointError, match=r'plain.pth.*backbone'):
        strip_distiller_checkpoint(str(path), str(tmp_path / 'out.pth'))
    assert not (tmp_path / 'out.pth').exists()


def test_student_config_of_a_plain_config_is_refused():
    from mmengine.config import Config
    with pytest.raises(DistillerCheckpointError, match='no student'):
        student_config(Config(dict(model=dict(type='Recognizer3D'))), 'cfg.py')


def test_cfg_options_change_the_distiller_rows_only(tmp_path):
    from mmemtm.benchmarks.recognition_kd import RecognitionKDBenchmark
    from mmemtm.utils.config_options import ConfigOptionError
    bench = RecognitionKDBenchmark(str(tmp_path), cfg_options={'model.loss_kd.temperature': 2.0})
    bench.results['teacher: I3D'] = dict(checkpoint='teacher.pth')
    assert bench.config('logit KD', 0).model.loss_kd.temperature == 2.0
    assert 'loss_kd' not in bench.config('student alone', 0).model
    assert bench.config('teacher: I3D', 0).model.type == 'Recognizer3D'
    wrong = RecognitionKDBenchmark(str(tmp_path), cfg_options={'model.loss_kd.temperature': 'x'})
    wrong.results = bench.results
    with pytest.raises(ConfigOptionError, match='temperature'):
        wrong.config('logit KD', 0)


class _FakeRunner:
    """Records the training of a run and leaves a best checkpoint in its work dir."""
    trained: list = []

    def __init__(self, cfg):
        self.cfg = cfg
        best = osp.join(cfg.work_dir, 'best.pth')
        self.message_hub = SimpleNamespace(get_info=lambda key: best)

    @classmethod
    def from_cfg(cls, cfg):
        return cls(cfg)

    def train(self):
        os.makedirs(self.cfg.work_dir, exist_ok=True)
        with open(osp.join(self.cfg.work_dir, 'best.pth'), 'w') as f:
            f.write(self.cfg.work_dir)
        self.trained.append(self.cfg.model.type)


def _reconstruction_weight_as_top1(bench, cfg, checkpoint):
    loss = cfg.model.get('loss_reconstruction') or dict(loss_weight=-1.0)
    return dict(test=dict(top1=100 * loss['loss_weight'], top5=100.0))


def test_a_variant_never_reuses_the_defaults_result_and_says_its_options(tmp_path, monkeypatch):
    """The GKD row run with --cfg-options in the default's work dir trains (it used to get the
    default's stored result), and results.json says which options made each row."""
    from mmemtm.benchmarks import experiments, recognition_kd
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(experiments, 'Runner', _FakeRunner)
    monkeypatch.setattr(recognition_kd.RecognitionKDBenchmark, 'evaluate',
                        _reconstruction_weight_as_top1)
    monkeypatch.setattr(_FakeRunner, 'trained', [])
    data = tmp_path / 'data'
    data.mkdir()
    for split in ('train', 'val', 'test'):
        (data / f'{split}.txt').write_text(f'{split}/clip0.mp4 0\n')

    def benchmark(cfg_options=None):
        bench = recognition_kd.RecognitionKDBenchmark(str(tmp_path), seeds=[0], rows=['GKD'],
                                                      cfg_options=cfg_options)
        bench.run(recognition_kd.TEACHER, 0)
        return bench, bench.run('GKD', 0)

    _, default = benchmark()
    option = {'model.loss_reconstruction.loss_weight': 0.05}
    variant_bench, variant = benchmark(option)
    assert default['test']['top1'] == 50.0 and variant['test']['top1'] == 5.0
    assert len(_FakeRunner.trained) == 3  # teacher, GKD, GKD with the option
    stored = json.loads((tmp_path / 'results.json').read_text())
    assert stored['GKD/seed0']['options'] == option
    assert stored['GKD/seed0']['test']['top1'] == 5.0
    table = markdown_table(summary_rows(variant_bench.results, [0]))
    assert '| GKD (model.loss_reconstruction.loss_weight=0.05) | 1 |' in table
    _, again = benchmark()  # the default again: found, not retrained
    assert again['test']['top1'] == 50.0 and len(_FakeRunner.trained) == 3


def test_training_time_lines_sum_the_runs_and_summarise_their_loads():
    runs = [dict(minutes=10.4, load_average=[2.0, 4.0]), dict(minutes=20.3), dict(minutes=0.5,
                                                                               load_average=[9.0])]
    time, load = training_time_lines(runs)
    assert time == 'training time: 31 minutes in all (3 runs)'
    assert load == '1-minute load average at the start and end of the runs: mean 5.0, max 9.0'
    assert training_time_lines([dict(minutes=1.0)])[1] is None


def test_write_report_leaves_out_missing_lines_and_draws_only_rows(tmp_path):
    text = write_report(str(tmp_path), ['table', None, 'time'], [], 'mAP', 'title', 'mAP.png')
    assert text == 'table\ntime'
    assert (tmp_path / 'summary.md').read_text() == 'table\ntime\n'
    assert not (tmp_path / 'mAP.png').exists()
    rows = [dict(row='student alone', seeds=1, mAP=(20.0, 0.0))]
    write_report(str(tmp_path), ['table'], rows, 'mAP', 'title', 'mAP.png')
    assert (tmp_path / 'mAP.png').stat().st_size > 1000
