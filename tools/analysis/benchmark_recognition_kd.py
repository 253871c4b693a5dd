"""Benchmark video distillation on the synthetic motion set: the I3D teacher, the top-heavy
student alone, logit KD, GKD and staged KD, several seeds, paired bootstrap CIs.

Example::

    nice -n 10 python tools/analysis/benchmark_recognition_kd.py \
        --work-dir work_dirs/recognition_kd_benchmark          # --device cuda on a GPU machine
    python tools/analysis/benchmark_recognition_kd.py --work-dir ... --report-only
    python tools/analysis/benchmark_recognition_kd.py --real-smoke ../shared/data  # real video

An interrupted run resumes where it stopped (same command). Every run is stored with its
settings (``--cfg-options`` included), so a variant run in the same work dir trains its own runs
and pairs with the stored teacher and student alone. Writes ``results.json`` (the runs of this
command's settings, each with its options), ``summary.md`` and ``top1.png`` into the work dir;
see :mod:`mmemtm.benchmarks.recognition_kd` for the protocol.
"""
import argparse
import json
import os.path as osp

import mmemtm  # noqa: F401  (compatibility fixes and registration come first)
import torch
from mmengine.config import DictAction
from mmengine.registry import init_default_scope

from mmemtm.benchmarks import machine_info
from mmemtm.benchmarks.real_video_smoke import real_video_smoke
from mmemtm.benchmarks.recognition_kd import (STUDENT_ROWS, RecognitionKDBenchmark,
                                              head_to_head, markdown_table, summary_rows,
                                              training_time_lines, write_report)
from mmemtm.datasets.synthetic_motion import SyntheticMotionConfig


def parse_args() -> argparse.Namespace:
    defaults = SyntheticMotionConfig()
    counts = dict(defaults.num_per_class)
    parser = argparse.ArgumentParser(description='Benchmark recognition distillation')
    parser.add_argument('--work-dir', default='work_dirs/recognition_kd_benchmark')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--epochs', type=int, help='epochs of the student runs (default: the configs\' 12)')
    parser.add_argument('--teacher-epochs', type=int, help='epochs of the teacher (default: its config\'s 40)')
    parser.add_argument('--rows', nargs='+', choices=STUDENT_ROWS, help='student rows to run')
    parser.add_argument('--device', default='cpu', help='cpu or cuda')
    parser.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    for split in ('train', 'val', 'test'):
        parser.add_argument(f'--{split}-per-class', type=int, default=counts[split])
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override entries of every distiller run\'s config, e.g. '
                        'model.loss_kd.temperature=2 (with --rows, for a variant of one row)')
    parser.add_argument('--report-only', action='store_true', help='only write the report')
    parser.add_argument('--real-smoke', metavar='SHARED_DATA',
                        help='instead: the real-video smoke check (Kinetics-400 I3D teacher on '
                        'windows of SHARED_DATA/videos), into WORK_DIR/real_smoke')
    parser.add_argument('--cache-dir', help='cache of the Kinetics I3D weights (--real-smoke)')
    return parser.parse_args()


def report(bench: RecognitionKDBenchmark, seeds) -> str:
    bench.collect()
    rows = summary_rows(bench.results, seeds)
    lines = [markdown_table(rows, bench.results.get('complexity')), '']
    h2h = head_to_head(bench.results, seeds)
    if h2h:
        lines.append(f'GKD - staged KD, top-1: {h2h[0]:+.1f} points, 95% CI [{h2h[1]:+.1f}, '
                     f'{h2h[2]:+.1f}] (paired; CI over seeds, then test clips; {h2h[3]} seeds)')
    runs = [run for run in bench.results.values() if isinstance(run, dict) and 'minutes' in run]
    time, load = training_time_lines(runs)
    lines.append(time)
    for info in bench.results.get('machine', []):
        lines.append(f'machine: {info["processor"]}, {info["cpu_count"]} CPUs, '
                     f'{info["torch_threads"]} torch threads, torch {info["torch"]}, started '
                     f'{info["date"]} at load average {info["load_average_start"][0]:.1f}')
    return write_report(bench.work_dir, [*lines, load], rows, 'top1',
                        'synthetic motion: top-1 of the student', 'top1.png')


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    init_default_scope('mmaction')
    if args.real_smoke:
        result = real_video_smoke(args.real_smoke, osp.join(args.work_dir, 'real_smoke'),
                                  args.cache_dir, device=args.device)
        print(json.dumps(result, indent=1))
        return
    data = SyntheticMotionConfig(num_per_class=(('train', args.train_per_class),
                                                ('val', args.val_per_class),
                                                ('test', args.test_per_class)))
    bench = RecognitionKDBenchmark(args.work_dir, args.seeds, args.epochs, data, args.device,
                                   teacher_epochs=args.teacher_epochs, rows=args.rows,
                                   cfg_options=args.cfg_options)
    if not args.report_only:
        bench.results.setdefault('machine', []).append(machine_info())
        bench.save()
        bench.run_all()
    print(report(bench, args.seeds))


if __name__ == '__main__':
    main()
