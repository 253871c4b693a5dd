"""Weakly-supervised benchmark on REAL features: Charades-STA test videos re-split by video,
appearance (CLIP ViT-L/14) and motion (absolute CLIP-embedding change) streams: the weak
grounder, the two-modality teacher with and without cross-modal mutual learning, local-global
distillation into the appearance-only student, the controls, seeds, two-level bootstrap CIs.

    python tools/analysis/benchmark_weak.py --work-dir work_dirs/weak_charades_clip

Resumable: every finished run is kept in WORK_DIR/results/, keyed by everything that changes it,
and skipped when run again. The teacher rows run at ``--teacher-seeds`` (default: the teacher
seed alone); the students always distil the teacher of ``--teacher-seed``. Stages: ``sweep``
(the distillation weights, on val only), ``rows`` (``--rows`` for every ``--seeds``),
``report``; ``all`` runs them in turn. Writes
WORK_DIR/results.md, WORK_DIR/results.png and WORK_DIR/val_curves.png. The protocol is in
mmemtm/benchmarks/weak_grounding.py.
"""
import argparse
import os.path as osp
from typing import List, Optional

import mmemtm  # noqa: F401  (compatibility fixes and registration come first)
from mmengine.registry import init_default_scope

from mmemtm.benchmarks.weak_grounding import (DEFAULT_ROWS, ROWS, WeakBenchmark,
                                              comparison_table, markdown_table, summary_rows,
                                              sweep_table)
from mmemtm.utils import atomic_write
from mmemtm.visualization import accuracy_bars, save_figure, validation_curves

LABEL = ('Charades-STA test videos, re-split by video (CLIP ViT-L/14 appearance + motion '
         'streams), weakly supervised; test split, checkpoints chosen on val.')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Weakly-supervised benchmark on real features')
    parser.add_argument('--work-dir', default='work_dirs/weak_charades_clip')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--epochs', type=int, default=3, help='epochs of every run')
    parser.add_argument('--weight-grid', nargs='+', default=['1,1'],
                        help='local,global distillation weights, swept on val when several')
    parser.add_argument('--sweep-seed', type=int, default=100)
    parser.add_argument('--teacher-seed', type=int, default=None,
                        help='seed of the teacher run the students distil (default: the first '
                        'seed)')
    parser.add_argument('--teacher-seeds', type=int, nargs='+', default=None,
                        help='seeds the teacher rows run at, paired by seed in the report '
                        '(default: the teacher seed alone; must include it)')
    parser.add_argument('--rows', nargs='+', default=list(DEFAULT_ROWS), choices=list(ROWS),
                        help='rows to run (default: the verdict rows); the report shows every '
                        'row that has run')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--stage', default='all', choices=['sweep', 'rows', 'report', 'all'])
    return parser.parse_args(argv)


def _pair(text: str) -> tuple:
    local, glob = text.split(',')
    return float(local), float(glob)


def report(bench: WeakBenchmark, rows: List[str]) -> str:
    """The tables, the figures and the time the runs took."""
    found = bench.collect(rows)
    table = summary_rows(found)
    save_figure(accuracy_bars(table, title=LABEL), osp.join(bench.work_dir, 'results.png'))
    curves = {row: [r['val_curve'] for r in runs.values() if r.get('val_curve')]
              for row, runs in found.items()}
    save_figure(validation_curves({k: v for k, v in curves.items() if v},
                                  title='val R1@0.5 per epoch, every run'),
                osp.join(bench.work_dir, 'val_curves.png'))
    minutes = sum(r['test']['minutes'] for runs in found.values() for r in runs.values()
                  if 'minutes' in r['test'])
    sweep = bench.sweep_scores()
    weights = 'chosen on val' if len(sweep) > 1 else 'fixed, not swept'
    teachers = (f'The distilling rows distil the teachers of seed {bench.teacher_seed} (the '
                '"teacher of its own seed" rows: the teacher run of their own seed); the '
                'teacher rows are shown at every seed they have run at.')
    return (LABEL + '\n\n' + teachers + '\n\n' + markdown_table(table)
            + '\n\nPaired comparisons (two-level bootstrap, seeds then queries):\n\n'
            + comparison_table(found)
            + f'\n\nDistillation weights (local, global), {weights}:\n\n' + sweep_table(sweep)
            + f'\n\nTraining and testing of the rows above took {minutes:.0f} min in all '
            '(sum of the runs, one CPU thread each).\n')


def main(argv: Optional[List[str]] = None) -> str:
    args = parse_args(argv)
    init_default_scope('mmaction')
    bench = WeakBenchmark(args.work_dir, args.seeds, args.epochs, args.device,
                          [_pair(w) for w in args.weight_grid], args.sweep_seed,
                          args.teacher_seed, args.teacher_seeds)
    if args.stage in ('sweep', 'all'):
        bench.sweep()
    if args.stage in ('rows', 'all'):
        bench.run_rows(args.rows)
    text = report(bench, list(ROWS))
    with atomic_write(osp.join(args.work_dir, 'results.md')) as f:
        f.write(text)
    print(text)
    return text


if __name__ == '__main__':
    main()
