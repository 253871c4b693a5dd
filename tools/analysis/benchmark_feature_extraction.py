"""Speed of I3D clip-feature extraction, as seconds of video per second of compute.

Example::

    python tools/analysis/benchmark_feature_extraction.py \
        ../shared/data/videos/charades/3MSZA.mp4 ../shared/data/videos/kinetics_demo/demo.mp4 \
        --num-threads 2 --batch-size 8 --bf16 --out work_dirs/benchmarks/extraction.json

For every video the wall-clock time of the default recipe is split into ``decode`` (opening the
video, decoding and FFmpeg scaling of the needed frames, cropping), ``preprocess`` (uint8 frames
to float clips in [-1, 1]) and ``network`` (I3D to Mixed_5c and pooling). The real-time factor
(RTF) of a stage is video seconds divided by its seconds; above 1 is faster than real time.

Wall time depends on what else the machine runs, so every run records the load average before
and after it, and the process CPU time (all threads): ``cpu_per_video_s`` (CPU seconds per
second of video) barely moves with the load, and ``cpu_utilisation`` (CPU seconds per wall
second) shows how many cores the run really had. ``--bf16`` also runs the network under
``torch.autocast('cpu', torch.bfloat16)`` (where the CPU supports it) and reports its speed and
the per-row cosine similarity of its features with the float32 ones.
"""
import argparse
import contextlib
import os
import time
from typing import Dict, List, Optional, Sequence

import mmemtm  # noqa: F401
import numpy as np
import torch
from mmengine.logging import MMLogger

from mmemtm.apis.feature_extraction import (ClipFeatureExtractor, ClipFeatureRecipe,
                                            build_i3d_feature_extractor)
from mmemtm.benchmarks import machine_info
from mmemtm.utils import dump_json_atomic

STAGES = ('decode', 'preprocess', 'network')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Benchmark I3D clip-feature extraction')
    parser.add_argument('videos', nargs='+', help='video files')
    parser.add_argument('--checkpoint', help='converted I3D weights (default: cache folder)')
    parser.add_argument('--cache-dir', help='cache of the weights')
    parser.add_argument('--batch-size', type=int, default=8, help='clips per forward pass')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--num-threads', type=int, help='torch CPU threads')
    parser.add_argument('--repeat', type=int, default=1, help='runs per video (best is kept)')
    parser.add_argument('--bf16', action='store_true',
                        help='also measure bfloat16 autocast and its agreement with float32')
    parser.add_argument('--out', help='also write the results to this JSON file')
    return parser.parse_args(argv)


def timed_extraction(extractor: ClipFeatureExtractor, path: str,
                     bf16: bool = False) -> Dict[str, object]:
    """One extraction of ``path``: features, seconds per stage, ``total`` wall and ``cpu``
    seconds, and the 1-minute load average before and after."""
    timings: Dict[str, float] = {}
    autocast = (torch.autocast('cpu', dtype=torch.bfloat16) if bf16
                else contextlib.nullcontext())
    load_before = os.getloadavg()[0]
    tic, cpu_tic = time.perf_counter(), time.process_time()
    with autocast:
        features = extractor.extract(path, timings)
    timings['total'] = time.perf_counter() - tic
    timings['cpu'] = time.process_time() - cpu_tic
    return dict(features=features, timings=timings,
                load=[load_before, os.getloadavg()[0]])


def speed_summary(duration: float, timings: Dict[str, float]) -> Dict[str, float]:
    """Seconds and RTFs per stage, the CPU-time ratios."""
    result = {}
    for stage in STAGES + ('total', 'cpu'):
        result[f'{stage}_s'] = timings.get(stage, 0.0)
        result[f'{stage}_rtf'] = duration / timings[stage] if timings.get(stage) else float('inf')
    result['cpu_per_video_s'] = timings['cpu'] / duration
    result['cpu_utilisation'] = timings['cpu'] / timings['total']
    return result


def row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of the rows of two ``[n, dim]`` feature arrays."""
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return (a * b).sum(1) / np.maximum(norms, 1e-12)


def benchmark_video(extractor: ClipFeatureExtractor, path: str, repeat: int,
                    bf16: bool = False) -> dict:
    """Fastest of ``repeat`` extractions of ``path``: seconds per stage, real-time factors,
    CPU-time ratios and the load average around each run; with ``bf16``, the same for bfloat16
    autocast plus the per-row cosine of its features with the float32 ones."""
    duration = extractor.open(path).duration
    runs = [timed_extraction(extractor, path) for _ in range(repeat)]
    best = min(runs, key=lambda run: run['timings']['total'])
    result = dict(video=path, video_seconds=duration, clips=int(best['features'].shape[0]),
                  load_average_1min=[run['load'] for run in runs],
                  **speed_summary(duration, best['timings']))
    if bf16:
        low = min((timed_extraction(extractor, path, bf16=True) for _ in range(repeat)),
                  key=lambda run: run['timings']['total'])
        cosines = row_cosines(best['features'], low['features'])
        result['bf16'] = dict(speed_summary(duration, low['timings']),
                              load_average_1min=low['load'],
                              cosine_mean=float(cosines.mean()),
                              cosine_min=float(cosines.min()),
                              network_speedup=best['timings']['network']
                              / low['timings']['network'])
    return result


def describe(result: dict) -> str:
    """One log line of :func:`benchmark_video`'s result."""
    def speed(r: dict) -> str:
        return (f'total {r["total_s"]:.2f} s (RTF {r["total_rtf"]:.2f}), CPU {r["cpu_s"]:.2f} s '
                f'({r["cpu_per_video_s"]:.3f} CPU s per video s, {r["cpu_utilisation"]:.2f} '
                'cores busy); ' + ', '.join(f'{s} {r[f"{s}_s"]:.2f} s (RTF {r[f"{s}_rtf"]:.2f})'
                                            for s in STAGES))
    line = (f'{result["video"]}: {result["video_seconds"]:.2f} s of video, {result["clips"]} '
            f'clips, load {result["load_average_1min"]}; float32: {speed(result)}')
    if 'bf16' in result:
        low = result['bf16']
        line += (f'; bf16 autocast: {speed(low)}, network {low["network_speedup"]:.2f}x faster, '
                 f'row cosine with float32 mean {low["cosine_mean"]:.5f} min '
                 f'{low["cosine_min"]:.5f}')
    return line


def main(argv: Optional[Sequence[str]] = None) -> List[dict]:
    args = parse_args(argv)
    logger = MMLogger.get_instance('mmemtm', log_level='INFO')
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    setup = dict(machine_info(), device=args.device, batch_size=args.batch_size,
                 repeat=args.repeat)
    extractor = build_i3d_feature_extractor(args.checkpoint, args.cache_dir, args.batch_size,
                                            args.device)
    recipe = ClipFeatureRecipe()
    extractor.embed(torch.zeros(1, 3, recipe.window, recipe.crop_size, recipe.crop_size))
    results = []
    for path in args.videos:
        results.append(benchmark_video(extractor, path, args.repeat, args.bf16))
        logger.info(describe(results[-1]))
    setup['load_average_end'] = list(os.getloadavg())
    logger.info(f'setup: {setup}')
    if args.out:
        dump_json_atomic(dict(setup=setup, results=results), args.out, indent=2)
    return results


if __name__ == '__main__':
    main()
