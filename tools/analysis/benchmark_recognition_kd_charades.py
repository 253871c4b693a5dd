"""Benchmark recognition distillation on real video: Charades action instances over the CLIP
ViT-L/14 features of the Charades-STA test videos (transformer teacher, convolution student
alone, logit KD, GKD, staged KD; each distiller's setting chosen on val; 3 seeds; two-level
bootstrap CIs over seeds and test videos).

Example::

    nice -n 10 python tools/analysis/benchmark_recognition_kd_charades.py \\
        --work-dir work_dirs/recognition_kd_charades          # --device cuda on a GPU machine
    python tools/analysis/benchmark_recognition_kd_charades.py --work-dir ... --report-only
    # the teacher with privileged context (the span's surroundings) and its students, in their own
    # work dir; --teacher-only trains the teacher and prints its val metrics (nothing tested)
    python tools/analysis/benchmark_recognition_kd_charades.py --privileged-context \
        --work-dir work_dirs/recognition_kd_charades_privileged

An interrupted run resumes where it stopped (same command). Writes ``results.json``,
``summary.md`` and ``mAP.png`` into the work dir; see
:mod:`mmemtm.benchmarks.recognition_kd_charades` for the protocol.
"""
import argparse
import os.path as osp

import mmemtm  # noqa: F401  (compatibility fixes and registration come first)
import torch
from mmengine.registry import init_default_scope

from mmemtm.benchmarks import machine_info
from mmemtm.benchmarks.recognition_kd import training_time_lines, write_report
from mmemtm.benchmarks.recognition_kd_charades import (PRIVILEGED_INPUT_SHAPE,
                                                       PRIVILEGED_ORDER, PRIVILEGED_ROWS,
                                                       PRIVILEGED_SWEEPS,
                                                       CharadesRecognitionKDBenchmark,
                                                       bootstrap_rows, markdown_table,
                                                       summary_rows, sweep_table)
from mmemtm.utils import dump_json_atomic


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Benchmark recognition distillation on '
                                     'Charades action instances (real CLIP features)')
    parser.add_argument('--work-dir', default='work_dirs/recognition_kd_charades')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--epochs', type=int, default=5, help='epochs of the student runs')
    parser.add_argument('--teacher-epochs', type=int, default=20, help='epochs of the teacher')
    parser.add_argument('--teacher-checkpoint', help='a trained teacher (checkpoint of the '
                        'teacher config\'s model) to use instead of training one')
    parser.add_argument('--device', default='cpu', help='cpu or cuda')
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    parser.add_argument('--resamples', type=int, default=200, help='bootstrap resamples')
    parser.add_argument('--report-only', action='store_true', help='only write the report')
    parser.add_argument('--privileged-context', action='store_true',
                        help='the rows with the privileged teacher (the span + its widened '
                        'surroundings; the students read the span only): use their own work dir')
    parser.add_argument('--privileged-settings', action='store_true',
                        help='with the span-only rows, only the settings and order of the '
                        'privileged rows (a control: the same students from another teacher)')
    parser.add_argument('--teacher-only', action='store_true',
                        help='train the teacher (or read it from the store) and print its val '
                        'metrics; nothing is tested')
    return parser.parse_args()


def report(bench: CharadesRecognitionKDBenchmark) -> str:
    """``summary.md`` and ``mAP.png`` of the stored runs."""
    bench.run_all(train=False)
    cis = bootstrap_rows(bench.results, bench.seeds, bench.draw_values)
    rows = summary_rows(bench.results, bench.seeds, cis)
    runs = [r['result'] for r in bench.store.entries() if r['result'].get('minutes') is not None]
    lines = [markdown_table(rows, bench.results.get('complexity')), '',
             'Settings tried on val (seed %d):' % bench.sweep_seed, '', sweep_table(bench.results),
             '', *training_time_lines(runs)]
    return write_report(bench.work_dir, lines, rows, 'mAP',
                        'Charades actions (real CLIP features): test mAP', 'mAP.png')


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    init_default_scope('mmaction')
    variant = {}
    if args.privileged_context or args.privileged_settings:
        variant = dict(sweeps=PRIVILEGED_SWEEPS, order=PRIVILEGED_ORDER)
    if args.privileged_context:
        variant.update(rows=PRIVILEGED_ROWS, input_shape=PRIVILEGED_INPUT_SHAPE)
    bench = CharadesRecognitionKDBenchmark(args.work_dir, args.seeds, epochs=args.epochs,
                                           teacher_epochs=args.teacher_epochs,
                                           device=args.device, resamples=args.resamples,
                                           teacher_checkpoint=args.teacher_checkpoint, **variant)
    if args.teacher_only:
        run = bench.teacher_on_val()
        print(f'teacher val: {run["val"] if run else "given checkpoint, not trained"}')
        return
    if not args.report_only:
        dump_json_atomic(machine_info(), osp.join(args.work_dir, 'machine.json'), indent=1)
        bench.run_all()
    print(report(bench))


if __name__ == '__main__':
    main()
