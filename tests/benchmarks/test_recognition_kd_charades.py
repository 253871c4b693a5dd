"""The real-video recognition distillation benchmark: cluster bootstrap, rows, table, configs."""
import numpy as np
import pytest
from mmaction.registry import MODELS
from mmengine.config import Config

from mmemtm.benchmarks.recognition_kd import complexity
from mmemtm.benchmarks.recognition_kd_charades import (BASELINE, DISTILLERS, INPUT_SHAPE,
                                                       PRIVILEGED_INPUT_SHAPE, PRIVILEGED_ROWS,
                                                       PRIVILEGED_SWEEPS, ROWS, SWEEPS, TEACHER,
                                                       bootstrap_rows, markdown_table,
                                                       metrics_on_draws, options_label,
                                                       summary_rows, sweep_table)
from mmemtm.benchmarks.statistics import cluster_draws, two_level_from_draws
from mmemtm.utils.config_options import merge_cfg_options


def test_cluster_draws_take_whole_clusters():
    groups = ['a', 'a', 'b', 'c', 'c', 'c']
    for draw in cluster_draws(groups, num=20, seed=1):
        picked = [groups[i] for i in draw]
        for name, size in (('a', 2), ('b', 1), ('c', 3)):
            assert picked.count(name) % size == 0
        assert len({groups[i] for i in draw}) <= 3


def test_two_level_from_draws_covers_the_seed_spread():
    base = np.zeros((3, 500))
    same = two_level_from_draws(base + 2.0, base, 2.0)
    assert same == (2.0, 2.0, 2.0)
    spread = two_level_from_draws(base + np.array([[0.0], [2.0], [4.0]]), base, 2.0)
    assert spread[1] < 2.0 < spread[2]


def _results(tmp_path, seeds=(0, 1)):
    """Two videos of two spans each, 3 classes; the distillers rank the true class first on
    every span, the student alone on half."""
    good = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.8, 0.1, 0.1]])
    bad = good[[1, 0, 2, 3]]
    targets = (np.array([0, 1, 2, 0]), np.eye(3)[[0, 1, 2, 0]], ['v1', 'v1', 'v2', 'v2'])
    results = {TEACHER: dict(val=dict(mAP=90.0), test=dict(mAP=100.0, top1=100.0, top5=100.0),
                             minutes=3.0)}
    for row in (BASELINE, ) + DISTILLERS:
        scores = bad if row == BASELINE else good
        for seed in seeds:
            path = str(tmp_path / f'{row}{seed}.npy')
            np.save(path, scores)
            test = dict(mAP=100.0, top1=100.0, top5=100.0) if row != BASELINE else \
                dict(mAP=50.0, top1=50.0, top5=100.0)
            results[f'{row}/seed{seed}'] = dict(
                val=dict(mAP=test['mAP'] - 1), test=test, test_scores=path, minutes=1.0,
                options={} if row == BASELINE else {'model.loss_kd.temperature': 1.0})
    return results, targets


def test_rows_pair_the_distillers_with_the_student_alone(tmp_path):
    results, targets = _results(tmp_path)
    draws = cluster_draws(targets[2], num=50)
    cis = bootstrap_rows(results, [0, 1],
                         lambda run: metrics_on_draws(np.load(run['test_scores']), targets, draws))
    assert cis['GKD']['top1'][0] == 50.0
    assert cis['GKD']['seed_deltas'] == [50.0, 50.0]
    rows = summary_rows(results, [0, 1], cis)
    by_row = {r['row']: r for r in rows}
    assert by_row['staged KD']['gap_closed'] == 1.0
    assert by_row[BASELINE]['mAP'] == (50.0, 0.0)
    table = markdown_table(rows, dict(teacher=dict(params=2e6, flops=15e6),
                                      student=dict(params=1e5, flops=5e5)))
    assert '| logit KD | loss_kd.temperature=1.0 | 2 |' in table
    assert '| 100 % | 0.10 M | 0.5 |' in table


def test_sweep_table_and_option_labels():
    results = {'GKD/sweep': dict(runs=[dict(options={}, val=dict(mAP=30.0, top1=20.0))])}
    assert '| GKD | config | 30.0 | 20.0 |' in sweep_table(results)
    assert options_label({'model.a': 1, 'model.b.c': 2}) == 'a=1, b.c=2'


@pytest.mark.parametrize('row', list(ROWS))
def test_configs_build_their_recognizers(row):
    cfg = Config.fromfile(ROWS[row])
    model = cfg.model if cfg.model.type == 'Recognizer3D' else cfg.model.student
    assert MODELS.build(model).backbone.num_steps == 8
    assert cfg.default_hooks.checkpoint.save_best == 'acc/mAP'


@pytest.mark.parametrize('row,options', [(row, options) for row in DISTILLERS
                                         for options in SWEEPS[row]])
def test_sweep_settings_build_their_distillers(row, options):
    assert SWEEPS[row][0] == {}   # the config's setting first: it is run on every seed
    cfg = merge_cfg_options(Config.fromfile(ROWS[row]), dict(options))
    model = MODELS.build(dict(cfg.model, teacher_ckpt=None))
    for key, value in options.items():
        if key == 'model.stage_epochs':   # kept by the distiller's cascade schedule
            assert model.cascade.stage_epochs == list(value), key
            continue
        if key == 'model.pseudo_label':   # None: the annotated labels, no pseudo-label bank
            assert value is None and model.pseudo_labels is None
            continue
        node = model
        for part in key.split('.')[1:]:
            node = getattr(node, part)
        if not isinstance(value, dict):
            assert node == value, key


def test_gkd_logit_term_candidate_is_the_logit_kd_setting():
    logit_kd = Config.fromfile(ROWS['logit KD']).model.loss_kd
    chosen = {k.split('.')[-1]: v for k, v in SWEEPS['logit KD'][1].items()}
    kd_options = [o for o in SWEEPS['GKD'] if 'model.loss_kd' in o]
    assert kd_options == [{'model.loss_kd': dict(logit_kd, **chosen)}]


def test_staged_kd_candidates_use_logit_kd_temperature_and_an_earlier_kd_stage():
    # the existing settings keep their places (their stored runs keep their keys)
    assert SWEEPS['staged KD'][1] == {'model.loss_substage.loss_weight': 1.0,
                                      'model.loss_kd.loss_weight': 1.0}
    logit_kd_temperature = SWEEPS['logit KD'][1]['model.loss_kd.temperature']
    cfg = Config.fromfile(ROWS['staged KD'])
    epochs = 5   # the benchmark's student epochs
    assert cfg.model.stage_epochs[-1] == 3   # the config's KD term: the last 2 epochs
    same_temperature, earlier = SWEEPS['staged KD'][4:6]
    assert same_temperature == dict(SWEEPS['staged KD'][1],
                                    **{'model.loss_kd.temperature': logit_kd_temperature})
    assert {k: v for k, v in earlier.items() if k != 'model.stage_epochs'} == same_temperature
    model = MODELS.build(dict(merge_cfg_options(cfg, dict(earlier)).model, teacher_ckpt=None))
    kd_stage = model.num_substages
    assert sum(kd_stage in model.cascade.active(e) for e in range(epochs)) == 4
    # the annotated labels instead of the pseudo labels, at the kept weights
    assert SWEEPS['staged KD'][6] == dict(SWEEPS['staged KD'][1], **{'model.pseudo_label': None})


@pytest.mark.parametrize('row', list(PRIVILEGED_ROWS))
def test_privileged_configs_feed_span_and_context_and_students_read_the_span(row):
    cfg = Config.fromfile(PRIVILEGED_ROWS[row])
    for split in ('train', 'val', 'test'):
        load = cfg[f'{split}_dataloader'].dataset.pipeline[0]
        assert (load.type, load.num_steps, load.context_steps) == ('LoadSpanFeatures', 8, 8)
    teacher = cfg.model if row == TEACHER else cfg.model.get('teacher')
    student = None if row == TEACHER else cfg.model.get('student', cfg.model)
    if teacher is not None:
        assert MODELS.build(teacher).backbone.uses_context
    if student is not None:
        built = MODELS.build(student).backbone
        assert built.context_steps == 8 and not built.uses_context
    if row == 'staged KD':
        assert cfg.model.teacher_stages == tuple(f'backbone.span_stages.{i}' for i in range(3))
    base = Config.fromfile(ROWS[row])
    assert cfg.default_hooks.checkpoint.save_best == base.default_hooks.checkpoint.save_best
    assert cfg.train_cfg == base.train_cfg


@pytest.mark.parametrize('row,options', [(row, options) for row in DISTILLERS
                                         for options in PRIVILEGED_SWEEPS[row]])
def test_privileged_settings_are_settings_of_the_span_sweep(row, options):
    assert options in SWEEPS[row]
    cfg = merge_cfg_options(Config.fromfile(PRIVILEGED_ROWS[row]), dict(options))
    MODELS.build(dict(cfg.model, teacher_ckpt=None))


def test_privileged_student_flops_are_the_students():
    span = complexity(Config.fromfile(ROWS[BASELINE]).model, INPUT_SHAPE)
    privileged = complexity(Config.fromfile(PRIVILEGED_ROWS[BASELINE]).model,
                            PRIVILEGED_INPUT_SHAPE)
    assert privileged == span
