"""Efficiency of EMTM's student against its teachers and the training-time EMTM model, per
inference backend (PyTorch, ONNX Runtime), with each latency against the CPU's compute floor.

Example::

    python tools/analysis/benchmark_efficiency.py --settings tacos charades anet \
        --threads 1 --backends torch onnxruntime --out work_dirs/benchmarks/efficiency.json

What is measured and how: :mod:`mmemtm.benchmarks.efficiency`. The baseline of the end-to-end
goal, the eager path of the previous release, is ``previous_release.py`` beside this tool; the
goals' thresholds are options (``--floor-goal``, ``--end-to-end-goal``). The JSON holds
``results[setting][model][backend]`` (``latency_ms_median``, ``macs``, ``floor_ms``,
``x_floor``...) for scripts, and ``settings`` with every detail; it is written atomically.
"""
import argparse
import os.path as osp
from typing import Any, Dict, Optional, Sequence

import mmemtm  # noqa: F401  (registration and compatibility fixes)
from mmengine.config import DictAction

from mmemtm.benchmarks.efficiency import (BACKENDS, INFERENCE_MODELS, MODELS, SETTINGS,
                                          BenchmarkOptions, PreviousRelease,
                                          run_efficiency_benchmark)
from mmemtm.utils import dump_json_atomic
# beside this tool (the folder of the script run is first on sys.path)
from previous_release import previous_release_decode_spans, previous_release_layers

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Benchmark EMTM against its teachers')
    parser.add_argument('--settings', nargs='+', default=['tacos', 'charades', 'anet'],
                        choices=sorted(SETTINGS), help='settings to measure')
    parser.add_argument('--vocab', nargs='+', action=DictAction, default={},
                        help='GloVe subset per setting, e.g. tacos=PATH (default: the shared '
                        'subsets, or the bundled demo GloVe when they are absent)')
    parser.add_argument('--threads', type=int, default=1,
                        help='CPU threads of torch, ONNX Runtime and the GEMM of the floor')
    parser.add_argument('--models', nargs='+', default=list(MODELS), choices=list(MODELS),
                        help='models to measure (the student is always needed)')
    parser.add_argument('--backends', nargs='+', default=list(BACKENDS), choices=BACKENDS,
                        help='inference backends')
    parser.add_argument('--onnx-models', nargs='+', default=list(INFERENCE_MODELS),
                        choices=INFERENCE_MODELS, help='models run in ONNX Runtime')
    parser.add_argument('--onnx-dir', default='work_dirs/benchmarks/onnx',
                        help='folder of the exported ONNX graphs')
    parser.add_argument('--batch-size', type=int, default=32, help='batch of the throughput')
    parser.add_argument('--queries-per-video', type=int, default=32,
                        help='sentences about one video (encode-once measurement)')
    parser.add_argument('--warmup', type=int, default=3, help='untimed runs per measurement')
    parser.add_argument('--repeats', type=int, default=30, help='timed runs per measurement')
    parser.add_argument('--budget', type=float, default=60.0,
                        help='seconds per call and measurement (fewer runs, smaller batch)')
    parser.add_argument('--gemm-size', type=int, default=1024,
                        help='side of the square float32 GEMM that measures the MAC rate')
    parser.add_argument('--devices', nargs='+', help='torch devices (default: cpu, and cuda '
                        'when torch.cuda.is_available())')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='overrides merged into every model config')
    parser.add_argument('--seed', type=int, default=0, help='seed of the synthetic inputs')
    parser.add_argument('--floor-goal', type=float, default=1.5,
                        help='goal: the student\'s batch-1 latency within this multiple of its '
                        'compute floor (fastest backend)')
    parser.add_argument('--end-to-end-goal', type=float, default=2.5,
                        help='goal: the student this many times faster end to end than the '
                        'eager path of the previous release')
    parser.add_argument('--out', default='work_dirs/benchmarks/efficiency.json',
                        help='JSON file of the results (written atomically)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    args = vars(parse_args(argv))
    out = args.pop('out')
    previous = PreviousRelease(previous_release_layers, previous_release_decode_spans)
    results = run_efficiency_benchmark(
        BenchmarkOptions(root=REPO_ROOT, previous_release=previous, **args))
    dump_json_atomic(results, out, indent=2)
    print(f'results written to {out}')
    return results


if __name__ == '__main__':
    main()
