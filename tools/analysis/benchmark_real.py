"""Accuracy benchmark on REAL features: Charades-STA test videos re-split by video (CLIP
ViT-L/14): the teachers, the distillation ladder (student alone, label KD from each teacher and
from their plain average, + KAU, + co-trained branch, EMTM's configs), the KD sweep on val only,
seeds, two-level bootstrap CIs.

    python tools/analysis/benchmark_real.py --work-dir work_dirs/charades_clip

Resumable: every finished run is kept in WORK_DIR/results/, keyed by everything that changes it,
and skipped when run again. Stages can run in separate processes on one work dir, e.g. the
teachers in one and the rows that need no teacher in another:

    python tools/analysis/benchmark_real.py --stage teachers &
    python tools/analysis/benchmark_real.py --stage rows --rows 'student alone' &

Writes WORK_DIR/results.md (the table and the sweep), WORK_DIR/results.png and
WORK_DIR/val_curves.png (val R1@0.5 per epoch of every run). The protocol is in
mmemtm/benchmarks/real_grounding.py.
"""
import argparse
import os.path as osp
from typing import List, Optional

import mmemtm  # noqa: F401  (compatibility fixes and registration come first)
from mmengine.registry import init_default_scope

from mmemtm.benchmarks.real_grounding import (ROWS, TEACHERS, RealBenchmark, comparison_table,
                                              gradient_table, markdown_table, summary_rows,
                                              sweep_table, train_decode_table)
from mmemtm.utils import atomic_write
from mmemtm.visualization import accuracy_bars, save_figure, validation_curves

LABEL = ('Charades-STA test videos, re-split by video (CLIP ViT-L/14); test split, checkpoints '
         'chosen on val.')
ROWS_SWEPT = 'label KD from the plain average of the teachers'
#: Rows whose extra loss terms may pull the shared encoder: their gradients are reported.
GRADIENT_ROWS = ('+ KAU', '+ co-trained branch (published EMTM)', 'co-trained branch alone',
                 'KAU fitted out of fold')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Accuracy benchmark on real CLIP features')
    parser.add_argument('--work-dir', default='work_dirs/charades_clip')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                        help='seeds of the student-side rows')
    parser.add_argument('--sweep-seed', type=int, default=100,
                        help='seed of the KD sweep runs (not one of --seeds)')
    parser.add_argument('--epochs', type=int, default=None,
                        help="epochs of every student-side run (default: the configs' 12); "
                        'the teachers keep their own schedule')
    parser.add_argument('--kd-grid', nargs='+', default=['0.1,1', '1,1', '1,3', '3,1'],
                        help='kd_weight,kd_temperature pairs of the sweep on val')
    parser.add_argument('--sweep-only', nargs='+', default=None,
                        help='run only these pairs of the grid (to share the sweep between '
                        'processes)')
    parser.add_argument('--kd', default=None,
                        help='kd_weight,kd_temperature of the distilling rows (default: the '
                        "sweep's winner)")
    parser.add_argument('--teachers', nargs='+', default=list(TEACHERS), choices=list(TEACHERS))
    parser.add_argument('--rows', nargs='+', default=list(ROWS), choices=list(ROWS),
                        help='student-side rows to run and report')
    parser.add_argument('--folds', type=int, default=2,
                        help="folds K of the teachers' cross-fitted train curves")
    parser.add_argument('--dropout-samples', type=int, default=8,
                        help="dropout samples averaged in the teachers' MC-dropout train curves")
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--stage', default='all',
                        choices=['teachers', 'cross-fit', 'sweep', 'rows', 'report', 'all'])
    return parser.parse_args(argv)


def _pair(text: str) -> tuple:
    weight, temperature = text.split(',')
    return float(weight), float(temperature)


def main(argv: Optional[List[str]] = None) -> str:
    args = parse_args(argv)
    init_default_scope('mmaction')
    bench = RealBenchmark(args.work_dir, args.seeds, [_pair(kd) for kd in args.kd_grid],
                          args.epochs, args.device, sweep_seed=args.sweep_seed,
                          folds=args.folds, dropout_samples=args.dropout_samples)
    if args.stage in ('teachers', 'all'):
        bench.train_teachers(args.teachers)
    if args.stage in ('cross-fit', 'all'):
        bench.cross_fit_teachers(args.teachers)
    if args.stage in ('sweep', 'all'):
        bench.kd_sweep([_pair(kd) for kd in args.sweep_only] if args.sweep_only else None)
    kd = _pair(args.kd) if args.kd else None
    if args.stage in ('rows', 'all'):
        bench.run_rows(args.rows, kd=kd or bench.chosen_kd())
    if kd is None and all(score is not None for score in bench.sweep_scores().values()):
        kd = bench.chosen_kd()
    found = bench.collect(args.rows, kd)
    rows = summary_rows(found)
    if rows:
        save_figure(accuracy_bars(rows, title=LABEL), osp.join(args.work_dir, 'results.png'))
        curves = {row: [r['val_curve'] for r in runs.values() if r.get('val_curve')]
                  for row, runs in found.items() if not row.startswith('teacher')}
        save_figure(validation_curves({k: v for k, v in curves.items() if v},
                                      title='val R1@0.5 per epoch, every run'),
                    osp.join(args.work_dir, 'val_curves.png'))
    report = (LABEL + '\n\n' + markdown_table(rows) + '\n\nRows against each other (paired '
              'seeds, two-level bootstrap):\n\n' + comparison_table(found) + f'\n\nKD sweep ({ROWS_SWEPT}, seed '
              f'{args.sweep_seed}, val only), chosen: {kd}\n\n' + sweep_table(bench.sweep_scores())
              + "\n\nEach teacher's train-split curves decoded against the train ground truth, "
              'in-sample, out-of-fold and averaged over dropout samples, beside its test score:'
              '\n\n'
              + train_decode_table(bench.train_decodes(), found) + '\n')
    if kd is not None:
        gradients = {row: bench.encoder_gradients(row, args.seeds[0], kd)
                     for row in GRADIENT_ROWS if row in args.rows}
        report += ('\nWhat each loss term does to the shared encoder (seed '
                   f'{args.seeds[0]}, 20 training batches):\n\n' + gradient_table(gradients)
                   + '\n')
    with atomic_write(osp.join(args.work_dir, 'results.md')) as f:
        f.write(report)
    print(report)
    return report


if __name__ == '__main__':
    main()
