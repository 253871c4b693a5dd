"""Speed of I3D clip-feature extraction, as seconds of video per second of compute.

Example::

    python tools/analysis/benchmark_feature_extraction.py \
        ../shared/data/videos/charades/3MSZA.mp4 ../shared/data/videos/kinetics_demo/demo.mp4 \
        --num-threads 2 --batch-size 8 --out work_dirs/benchmark.json

For every video the wall-clock time of the default recipe is split into ``decode`` (opening the
video, decoding and FFmpeg scaling of the needed frames, cropping), ``preprocess`` (uint8 frames
to float clips in [-1, 1]) and ``network`` (I3D to Mixed_5c and pooling). The real-time factor
(RTF) of a stage is video seconds divided by its seconds; above 1 is faster than real time. The
process CPU time (all threads) is reported too: on a shared machine it varies less than wall time.
"""
import argparse
import os
import platform
import time

import mmemtm  # noqa: F401
import torch
from mmengine.logging import MMLogger

from mmemtm.datasets.video_features import ClipFeatureRecipe, build_i3d_feature_extractor
from mmemtm.utils import dump_json_atomic

STAGES = ('decode', 'preprocess', 'network')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Benchmark I3D clip-feature extraction')
    parser.add_argument('videos', nargs='+', help='video files')
    parser.add_argument('--checkpoint', help='converted I3D weights (default: cache folder)')
    parser.add_argument('--cache-dir', help='cache of the weights')
    parser.add_argument('--batch-size', type=int, default=8, help='clips per forward pass')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--num-threads', type=int, help='torch CPU threads')
    parser.add_argument('--repeat', type=int, default=1, help='runs per video (best is kept)')
    parser.add_argument('--out', help='also write the results to this JSON file')
    return parser.parse_args()


def benchmark_video(extractor, path: str, repeat: int) -> dict:
    """Fastest of ``repeat`` extractions of ``path``: seconds per stage and real-time factors."""
    duration = extractor.open(path).duration
    best = None
    for _ in range(repeat):
        timings = {}
        tic, cpu_tic = time.perf_counter(), time.process_time()
        features = extractor.extract(path, timings)
        timings['total'] = time.perf_counter() - tic
        timings['cpu'] = time.process_time() - cpu_tic
        if best is None or timings['total'] < best['total']:
            best = timings
    result = dict(video=path, video_seconds=duration, clips=int(features.shape[0]))
    for stage in STAGES + ('total', 'cpu'):
        result[f'{stage}_s'] = best.get(stage, 0.0)
        result[f'{stage}_rtf'] = duration / best[stage] if best.get(stage) else float('inf')
    return result


def main() -> None:
    args = parse_args()
    logger = MMLogger.get_instance('mmemtm', log_level='INFO')
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    extractor = build_i3d_feature_extractor(args.checkpoint, args.cache_dir, args.batch_size,
                                            args.device)
    recipe = ClipFeatureRecipe()
    warmup = torch.zeros(1, 3, recipe.window, recipe.crop_size, recipe.crop_size)
    extractor.embed(warmup)
    results = []
    for path in args.videos:
        result = benchmark_video(extractor, path, args.repeat)
        results.append(result)
        logger.info(
            f'{path}: {result["video_seconds"]:.2f} s of video, {result["clips"]} clips, '
            f'total {result["total_s"]:.2f} s (RTF {result["total_rtf"]:.3f}), process CPU '
            f'time {result["cpu_s"]:.2f} s (video s per CPU s {result["cpu_rtf"]:.3f}); '
            + ', '.join(
                f'{stage} {result[f"{stage}_s"]:.2f} s (RTF {result[f"{stage}_rtf"]:.2f})'
                for stage in STAGES))
    setup = dict(device=args.device, torch_threads=torch.get_num_threads(),
                 batch_size=args.batch_size, torch=torch.__version__, cpu_count=os.cpu_count(),
                 processor=platform.processor() or platform.machine(),
                 load_average_1min=os.getloadavg()[0])
    logger.info(f'setup: {setup}')
    if args.out:
        dump_json_atomic(dict(setup=setup, results=results), args.out, indent=2)


if __name__ == '__main__':
    main()
