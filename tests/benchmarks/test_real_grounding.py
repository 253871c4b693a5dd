"""The real-feature benchmark's bookkeeping and statistics (no training)."""
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmemtm.benchmarks.real_grounding import (ALL, BASELINE, CURVE_KINDS, DEFAULT_ROW, ROWS,
                                              SWEEP_ROW, TEACHERS, RealBenchmark,
                                              comparison_table, hits, markdown_table,
                                              summary_rows, sweep_table)
from mmemtm.benchmarks.statistics import per_seed_deltas, two_level_bootstrap

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture
def bench(tmp_path, monkeypatch):
    """A benchmark over the repository's configs, with empty stand-ins of the teachers' curves
    (settings only digest them), small stand-ins of the annotation files and a stand-in of the
    fit of teacher weights on val curves (its calls in ``bench.fits``)."""
    monkeypatch.chdir(REPO)
    init_default_scope('mmaction')
    bench = RealBenchmark(str(tmp_path), seeds=[0, 1], kd_grid=((1.0, 1.0), (3.0, 1.0)), epochs=3)
    os.makedirs(osp.dirname(bench.curve_file('SCDM', 'train')))
    for teacher in TEACHERS:
        for split in ('train', 'train-oof', 'train-mc', 'val'):
            with open(bench.curve_file(teacher, split), 'w') as f:
                f.write(teacher + split)
    data = tmp_path / 'data'
    data.mkdir()
    for split in ('train', 'val', 'test'):
        (data / f'{split}.json').write_text(f'["{split}"]')
    real_config = bench.config

    def config(path, seed, student):
        cfg = real_config(path, seed, student)
        for split in ('train', 'val', 'test'):
            cfg[f'{split}_dataloader'].dataset.ann_file = str(data / f'{split}.json')
        return cfg

    monkeypatch.setattr(bench, 'config', config)
    bench.fits = []

    def fit(model, cfg, files):
        bench.fits.append(files)
        return torch.tensor([[0.5, 0.2], [0.3, 0.3], [0.2, 0.5]])

    monkeypatch.setattr('mmemtm.benchmarks.real_grounding.fit_teacher_weights', fit)
    return bench


def test_epochs_reach_student_side_runs_only(bench):
    teacher = bench.config(TEACHERS['SeqPAN'], 0, student=False)
    student, _ = bench.student(BASELINE, 0, None)
    assert teacher.train_cfg.max_epochs == 12 and student.train_cfg.max_epochs == 3


def test_every_setting_that_changes_a_result_changes_its_key(bench, tmp_path):
    cfg, settings = bench.student(SWEEP_ROW, 0, (1.0, 1.0))
    key = bench.store.path(SWEEP_ROW, settings)
    bench.store.put(SWEEP_ROW, settings, dict(best_val=1.0))
    assert bench.store.get(SWEEP_ROW, bench.student(SWEEP_ROW, 0, (1.0, 1.0))[1]) is not None
    changed = [bench.student(SWEEP_ROW, 1, (1.0, 1.0))[1],           # seed
               bench.student(SWEEP_ROW, 0, (1.0, 3.0))[1]]           # option
    bench.epochs = 4
    changed.append(bench.student(SWEEP_ROW, 0, (1.0, 1.0))[1])       # epochs
    bench.epochs = 3
    with open(bench.curve_file('SCDM', 'train'), 'a') as f:          # an input file
        f.write('retrained')
    changed.append(bench.student(SWEEP_ROW, 0, (1.0, 1.0))[1])
    keys = {bench.store.path(SWEEP_ROW, s) for s in changed}
    assert len(keys) == len(changed) and key not in keys
    assert all(bench.store.get(SWEEP_ROW, s) is None for s in changed)
    # the stored result carries its settings, and its run folder is named by its key
    entry = next(bench.store.entries())
    assert entry['settings'] == settings and entry['settings']['config_text']
    assert bench.run_dir(SWEEP_ROW, settings).endswith(osp.basename(key)[:-len('.json')])


def test_the_key_of_a_stored_result_is_unchanged(tmp_path, monkeypatch):
    """Results stored before are still found: a fixed run's settings (config text, file
    digests...) give the same fingerprint as they always did."""
    monkeypatch.chdir(tmp_path)
    os.makedirs('data')
    for split in ('train', 'val', 'test'):
        with open(f'data/{split}.json', 'w') as f:
            f.write(f'["{split}"]')
    with open('curves.npz', 'w') as f:
        f.write('curves')

    def loader(split):
        pipeline = [dict(type='LoadTeacherCurves', files=['curves.npz']),
                    dict(type='PackGroundingInputs')] if split == 'train' else []
        return dict(dataset=dict(type='D', ann_file=f'data/{split}.json', pipeline=pipeline))

    cfg = Config(dict(model=dict(type='EMTM', kd_weight=1.0), work_dir='somewhere',
                      train_cfg=dict(max_epochs=12, val_interval=1),
                      test_evaluator=dict(type='GroundingMetric', dump_file='x.json'),
                      param_scheduler=[dict(type='LinearLR', begin=0, end=1)],
                      **{f'{s}_dataloader': loader(s) for s in ('train', 'val', 'test')}))
    bench = RealBenchmark('work', seeds=[0])
    row = 'KD: plain average'  # the row's name when the key was fixed
    settings = bench.settings(row, 'configs/x.py', cfg, 3, kd=(1.0, 1.0))
    assert sorted(settings) == ['config', 'config_text', 'device', 'epochs', 'inputs', 'kd',
                                'row', 'seed']
    assert bench.store.path(row, settings) == osp.join(
        'work', 'results', 'KD_plain_average', 'a6375e7eeb097f1a.json')
    assert bench.run_dir(row, settings) == osp.join(
        'work', 'runs', 'KD_plain_average', 'a6375e7eeb097f1a')


def test_distilling_rows_take_their_teachers_curves_and_the_swept_setting(bench):
    split = CURVE_KINDS
    for row, spec in ROWS.items():
        cfg, settings = bench.student(row, 0, (3.0, 1.0))
        assert cfg.model.num_teachers == len(spec.teachers)
        loaders = [t for t in cfg.train_dataloader.dataset.pipeline
                   if t['type'] == 'LoadTeacherCurves']
        assert len(loaders) == (1 if spec.teachers else 0)
        if not spec.teachers:
            continue
        files = [bench.curve_file(t, split[spec.kd_curves]) for t in spec.teachers]
        assert loaders[0]['files'] == files
        fitted = (None if spec.aggregator_curves is None else
                  [bench.curve_file(t, split[spec.aggregator_curves]) for t in spec.teachers])
        assert loaders[0].get('aggregator_files') == fitted
        assert set(settings['inputs']) >= set(files + (fitted or []))
        assert cfg.model.loss_kd.loss_weight == (3.0 if spec.swept else 0.1)
    with pytest.raises(ValueError, match='swept KD setting'):
        bench.student(SWEEP_ROW, 0, None)


def test_val_weighted_rows_fit_the_weights_on_val_curves_once_and_key_them(bench):
    row = 'KD: teacher weights fitted on val'
    cfg, settings = bench.student(row, 0, (3.0, 1.0))
    assert cfg.model.aggregator.type == 'FixedTeacherWeights'
    np.testing.assert_allclose(cfg.model.aggregator.weights,
                               [[0.5, 0.2], [0.3, 0.3], [0.2, 0.5]])
    assert bench.fits == [[bench.curve_file(t, 'val') for t in ALL]]
    bench.student(row, 1, (3.0, 1.0))
    assert len(bench.fits) == 1  # stored, not refitted for another seed
    with open(bench.curve_file('SCDM', 'val'), 'a') as f:
        f.write('changed')
    bench.student(row, 0, (3.0, 1.0))
    assert len(bench.fits) == 2  # other val curves: fitted again
    os.remove(bench.curve_file('SCDM', 'val'))
    with pytest.raises(FileNotFoundError, match='SCDM_val'):
        bench.student(row, 0, (3.0, 1.0))


def test_the_sweep_never_tests_and_never_uses_a_row_seed(bench, monkeypatch):
    runs = []
    monkeypatch.setattr(bench, 'run', lambda name, cfg, settings, test=True: runs.append(
        (name, settings['seed'], test)) or bench.store.put(name, settings, dict(
            best_val=json.loads(settings['config_text'])['model']['loss_kd']['loss_weight'])))
    scores = bench.kd_sweep()
    assert len(runs) == len(bench.kd_grid)
    assert all(seed == bench.sweep_seed and seed not in bench.seeds and not test
               for _, seed, test in runs)
    assert bench.chosen_kd() == (3.0, 1.0) and set(scores) == set(bench.kd_grid)
    assert '| **3, 1** | 3.0 |' in sweep_table(scores)
    with pytest.raises(ValueError, match='sweep seed'):
        RealBenchmark(bench.work_dir, seeds=[0, 100], sweep_seed=100)


def _found(seeds, queries=50):
    qids = [f'v{i}#0' for i in range(queries)]
    found = {'teacher: SeqPAN': {None: dict(test={'R1@0.3': 50., 'R1@0.5': 30., 'R1@0.7': 10.,
                                                  'mIoU': 33.}, ious={})}}
    for i, row in enumerate([BASELINE, DEFAULT_ROW]):
        found[row] = {}
        for s in seeds:
            ious = {q: (0.6 if (j + i + s) % 3 else 0.2) for j, q in enumerate(qids)}
            r15 = 100 * np.mean([v >= 0.5 for v in ious.values()])
            found[row][s] = dict(test={'R1@0.3': r15, 'R1@0.5': r15, 'R1@0.7': 0.,
                                       'mIoU': 40. + s}, ious=ious)
    return found


def test_summary_rows_pair_every_row_with_the_student_alone_seed_by_seed():
    rows = summary_rows(_found([0, 1, 2]))
    by_name = {r['row']: r for r in rows}
    assert 'ci' not in by_name[BASELINE] and 'ci' not in by_name['teacher: SeqPAN']
    kd = by_name[DEFAULT_ROW]
    assert kd['seeds'] == 3 and len(kd['deltas']) == 3
    assert kd['ci'][0] == pytest.approx(np.mean(kd['deltas']))
    assert by_name[BASELINE]['mIoU'] == pytest.approx((41.0, 1.0))
    table = markdown_table(rows)
    assert table.count('\n') == len(rows) + 1 and '41.0 ± 1.0' in table
    assert ' / '.join(f'{d:+.1f}' for d in kd['deltas']) in table


def test_rows_are_compared_head_to_head_on_the_seeds_both_have():
    found = _found([0, 1, 2])
    for seed, run in found[DEFAULT_ROW].items():
        run['best_val'] = 40.0 + seed
    for seed, run in found[BASELINE].items():
        run['best_val'] = 30.0
    del found[BASELINE][2]
    table = comparison_table(found, [(DEFAULT_ROW, BASELINE),
                                     ('KD: SCDM', BASELINE)])
    lines = table.splitlines()
    assert len(lines) == 3  # header, rule, one pair: KD: SCDM did not run
    row, ref = _found([0, 1])[DEFAULT_ROW], _found([0, 1])[BASELINE]
    queries = sorted(ref[0]['ious'])
    mean, low, high = two_level_bootstrap(hits(row, [0, 1], queries), hits(ref, [0, 1], queries))
    assert lines[2] == (f'| {DEFAULT_ROW} | {BASELINE} | 0, 1 | '
                        f'{mean:+.1f} [{low:+.1f}, {high:+.1f}] | '
                        + ' / '.join(f'{d:+.1f}' for d in per_seed_deltas(
                            hits(row, [0, 1], queries), hits(ref, [0, 1], queries)))
                        + ' | +10.5 |')


def test_rows_cover_the_ladder():
    assert set(ALL) == set(TEACHERS) and ROWS[SWEEP_ROW][1] == ALL
    singles = [row for row, spec in ROWS.items()
               if len(spec.teachers) == 1 and spec.kd_curves == 'in-sample']
    assert singles == [f'KD: {t}' for t in TEACHERS]


def test_encoder_gradients_of_each_loss_term():
    import sys
    sys.path.insert(0, osp.join(REPO, 'tests', 'models', 'distillers'))
    from test_emtm import COTRAINED, batch, build

    from mmemtm.benchmarks.real_grounding import encoder_gradient_stats

    def batches(model):
        return [dict(inputs=batch(seed=s), data_samples=None) for s in (1, 2)]

    model = build(cotrained=COTRAINED).eval()
    stats = encoder_gradient_stats(model, batches(model))
    assert set(stats) == {'student', 'cotrained', 'kd', 'kau'}
    assert stats['student']['cosine_with_student'] == pytest.approx(1.0)
    assert all(v['norm'] > 0 for v in stats.values())
    detached = build(cotrained=None, detach_aggregator_inputs=True).eval()
    stats = encoder_gradient_stats(detached, batches(detached))
    assert set(stats) == {'student', 'kd', 'kau'} and stats['kau']['norm'] == 0.0
