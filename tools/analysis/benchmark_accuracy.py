"""Accuracy benchmark on PLANTED SYNTHETIC features over the full TACoS and Charades-STA splits.

For each data set and seed: train the three teachers (span SeqPAN, 2-D map 2D-TAN, proposals
SCDM), EMTM's student alone, the student with its co-trained teacher, and EMTM distilled from the
three teachers; test each one's last checkpoint on the test split; decode the teachers' test
curves alone (each teacher, their plain average, EMTM's KAU mixture). Models are the CPU-scaled
demo configs (max_vlen 64, the demo sizes of 2D-TAN and SCDM); the schedule is short (``--epochs``,
linear warm-up over the first epoch then linear decay). With ``--teacher-seed N`` the teachers
are trained with seed N only and the other seeds distil from N's curves: their spread is that of
the student-side rows (and the retrained KAU) over fixed teachers.

Runs are resumable: every finished run is stored in ``<work-dir>/results/`` keyed by everything
that changes it (resolved config, epochs, seed, noise, digests of the annotation and teacher curve
files: :class:`~mmemtm.benchmarks.store.ResultStore`) and skipped on a rerun with the same
settings; ``<work-dir>/results.json`` holds the results of the finished seeds. The table (mean
and sample standard deviation over the finished seeds) is printed and written to ``--table``::

    python tools/analysis/benchmark_accuracy.py --datasets tacos charades --seeds 0 1 2 \
        --epochs 3 --table docs/benchmark_accuracy.md
"""
import argparse
import json
import os.path as osp
import statistics
from typing import Dict, List, Optional

import mmemtm  # noqa: F401
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger

from mmemtm.apis import dump_teacher_curves
from mmemtm.apis.teacher_ensembles import evaluate_teacher_curves
from mmemtm.benchmarks.experiments import set_teacher_curves, train_and_test, use_dataset
from mmemtm.benchmarks.store import ResultStore, run_settings
from mmemtm.datasets import read_queries
from mmemtm.datasets.planted import PlantedFeatureGenerator
from mmemtm.engine import set_epochs
from mmemtm.text import load_word_vocabulary
from mmemtm.utils import atomic_write, dump_json_atomic

DATASETS = dict(
    tacos=dict(config='configs/_base_/datasets/tacos_planted.py', clip_seconds=2.0,
               name='TACoS'),
    charades=dict(config='configs/_base_/datasets/charades_planted.py', clip_seconds=1.0,
                  name='Charades-STA'))
TEACHERS = dict(seqpan='configs/teachers/seqpan_tacos_demo.py',
                tan2d='configs/teachers/tan2d_tacos_demo.py',
                scdm='configs/teachers/scdm_tacos_demo.py')
#: Student-side rows in run order (the two rows of the main comparison first): (work folder,
#: config, model overrides).
STUDENTS = {
    'student alone': ('student', 'configs/ablations/student_only_tacos_demo.py', {}),
    'EMTM (KAU, 3 teachers)': ('emtm', 'configs/emtm_tacos_demo.py', {}),
    'student + co-trained teacher': ('cotrained', 'configs/ablations/student_only_tacos_demo.py',
                                     dict(cotrained=dict(attention=dict(
                                         type='DualAttentionEncoder', num_layers=2)))),
}
ROW_ORDER = ['seqpan', 'tan2d', 'scdm', 'plain average of teachers', 'KAU mixture',
             'student alone', 'student + co-trained teacher', 'EMTM (KAU, 3 teachers)']
METRICS = ('R1@0.3', 'R1@0.5', 'R1@0.7', 'mIoU')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Accuracy benchmark on planted features')
    parser.add_argument('--datasets', nargs='+', choices=sorted(DATASETS),
                        default=['tacos', 'charades'])
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--noise', type=float, default=1.0, help='planted noise level')
    parser.add_argument('--teacher-seed', type=int,
                        help='train the teachers only with this seed and distil every other seed '
                        'from its curves (seed spread of the student-side rows only)')
    parser.add_argument('--work-dir', default='work_dirs/benchmark_accuracy')
    parser.add_argument('--table', help='also write the markdown table to this file')
    return parser.parse_args(argv)


def plant(dataset_cfg: Config, clip_seconds: float, noise: float) -> None:
    """Planted features of every query of the data set (seed 0), unless already there."""
    out = dataset_cfg.feature_root
    if osp.isfile(osp.join(out, 'feature_shapes.json')):
        return
    queries = []
    for split in ('train', 'test'):
        queries += read_queries(dataset_cfg.ann_prefix + f'{split}.json', skip_invalid=True)[0]
    PlantedFeatureGenerator(load_word_vocabulary(dataset_cfg.glove), clip_seconds=clip_seconds,
                            noise=noise, seed=0, dtype='float16').generate(queries, out)


def run_config(config: str, dataset_cfg: Config, work_dir: str, seed: int,
               epochs: int) -> Config:
    cfg = Config.fromfile(config)
    use_dataset(cfg, dataset_cfg)
    set_epochs(cfg, epochs, validate=False)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=epochs, max_keep_ckpts=1)
    return cfg


def metrics_only(result: Dict[str, object]) -> Dict[str, float]:
    return {k: v for k, v in result.items() if k != 'runner'}


def run_key(row: str, config: str, cfg: Config, seed: int, args: argparse.Namespace) -> dict:
    """Everything that changes the result of ``row``'s run of ``cfg``: the store's settings with
    the planted noise, the annotation files' and (students) the teacher curves' digests."""
    inputs = [cfg[f'{s}_dataloader'].dataset.ann_file for s in ('train', 'val', 'test')]
    for transform in cfg.train_dataloader.dataset.pipeline:
        if transform['type'] == 'LoadTeacherCurves':
            inputs += transform['files']
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    return run_settings(row, config, cfg, seed, device, inputs, noise=args.noise)


def run_seed(name: str, dataset_cfg: Config, seed: int, args: argparse.Namespace,
             results: Dict[str, dict], save) -> None:
    """Every run of one data set and seed that the store does not hold with the same settings
    (into ``results``)."""
    store = ResultStore(osp.join(args.work_dir, 'results'))
    root = osp.join(args.work_dir, name, f'seed{seed}')
    reuse = args.teacher_seed is not None and args.teacher_seed != seed
    teacher_root = osp.join(args.work_dir, name, f'seed{args.teacher_seed}') if reuse else root
    curves = {t: {s: osp.join(teacher_root, 'curves', f'{t}_{s}.npz') for s in ('train', 'test')}
              for t in TEACHERS}
    key = f'{name}/seed{seed}'
    done = results.setdefault(key, {})
    for teacher, config in TEACHERS.items():
        have_curves = all(osp.isfile(p) for p in curves[teacher].values())
        if reuse and not have_curves:
            raise FileNotFoundError(
                f'--teacher-seed {args.teacher_seed}: the {teacher} curves of {name} seed '
                f'{args.teacher_seed} are missing ({curves[teacher]["train"]}); run that seed '
                'first')
        if reuse:
            continue
        cfg = run_config(config, dataset_cfg, osp.join(root, teacher), seed, args.epochs)
        settings = run_key(teacher, config, cfg, seed, args)
        stored = store.get(teacher, settings)
        if stored is not None and have_curves:
            done[teacher] = stored
            continue
        result = train_and_test(cfg, use_best=False)
        for split, path in curves[teacher].items():
            dump_teacher_curves(result['runner'].model, cfg, path, split, name=teacher)
        done[teacher] = store.put(teacher, settings, metrics_only(result))
        save()
    train_curves = [curves[t]['train'] for t in TEACHERS]
    for row, (folder, config, overrides) in STUDENTS.items():
        cfg = run_config(config, dataset_cfg, osp.join(root, folder), seed, args.epochs)
        cfg.model.update(overrides)
        distils = cfg.model.num_teachers > 0
        if distils:
            set_teacher_curves(cfg, train_curves)
        settings = run_key(row, config, cfg, seed, args)
        stored = store.get(row, settings)
        if stored is not None:
            done.update(stored)
            continue
        result = train_and_test(cfg, use_best=False)
        rows = {row: metrics_only(result)}
        if distils:
            ensembles = evaluate_teacher_curves(
                result['runner'].model, cfg, [curves[t]['test'] for t in TEACHERS],
                list(TEACHERS))
            # With reused teachers, the plain average is the teacher seed's again; the KAU is new.
            for ensemble in ('KAU mixture',) if reuse else ('plain average of teachers',
                                                            'KAU mixture'):
                rows[ensemble] = ensembles[ensemble]
        done.update(store.put(row, settings, rows))
        save()


def format_table(results: Dict[str, dict], datasets: List[str]) -> str:
    lines = ['| data set | model | seeds | ' + ' | '.join(METRICS) + ' | params |',
             '| --- | --- | --- | ' + ' | '.join('---' for _ in METRICS) + ' | --- |']
    for name in datasets:
        runs = [v for k, v in results.items() if k.startswith(f'{name}/')]
        for row in ROW_ORDER:
            found = [run[row] for run in runs if row in run]
            if not found:
                continue
            cells = []
            for metric in METRICS:
                values = [r[metric] for r in found]
                cell = f'{statistics.mean(values):.2f}'
                cells.append(f'{cell} ± {statistics.stdev(values):.2f}' if len(values) > 1
                             else cell)
            params = found[0].get('params') or '-'
            params = f'{params:,}' if isinstance(params, int) else params
            lines.append(f'| {DATASETS[name]["name"]} | {row} | {len(found)} | '
                         + ' | '.join(cells) + f' | {params} |')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> str:
    args = parse_args(argv)
    results_file = osp.join(args.work_dir, 'results.json')
    results: Dict[str, dict] = {}
    if osp.isfile(results_file):
        with open(results_file, encoding='utf-8') as f:
            results = json.load(f)

    header = (f'PLANTED SYNTHETIC features on the real annotations of the full splits (not '
              f'benchmark results); CPU-scaled models, {args.epochs} epochs, last checkpoint, '
              f'test split; mean ± sample standard deviation over seeds (one seed: its value).\n\n')

    def save() -> None:
        """Store the results and refresh the table after every finished run."""
        dump_json_atomic(results, results_file, indent=1)
        if args.table:
            with atomic_write(args.table, 'w', encoding='utf-8') as f:
                f.write(header + format_table(results, args.datasets) + '\n')

    for seed in args.seeds:
        for name in args.datasets:
            dataset_cfg = Config.fromfile(DATASETS[name]['config'])
            plant(dataset_cfg, DATASETS[name]['clip_seconds'], args.noise)
            run_seed(name, dataset_cfg, seed, args, results, save)
    table = format_table(results, args.datasets)
    MMLogger.get_current_instance().info('\n' + header + table)
    return table


if __name__ == '__main__':
    main()
