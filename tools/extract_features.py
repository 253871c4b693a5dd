"""Extract clip features of videos with the Kinetics-400 I3D (one 1024-d vector per second).

Example::

    python tools/extract_features.py data/charades/videos --out data/charades_sta/i3d_k400 \
        --batch-size 8 --num-threads 4

Inputs are video files, folders of videos and ``.txt`` lists of video paths; a video's id is its
file stem. The output folder gets ``<video_id>.npy`` ``[n_seconds, 1024]``,
``feature_shapes.json`` and ``feature_recipe.json`` (the layout ``NpyFeatureStore`` reads). Videos
already extracted are skipped on a rerun; unreadable videos are reported and skipped (the exit
status is then 1). The default recipe is documented in ``docs/feature_extraction.md``.
"""
import argparse
import sys

import mmemtm  # noqa: F401
import torch
from mmengine.logging import MMLogger

from mmemtm.apis.feature_extraction import (ClipFeatureRecipe, build_i3d_feature_extractor,
                                            extract_features_to_folder, list_videos)


def parse_args() -> argparse.Namespace:
    defaults = ClipFeatureRecipe()
    parser = argparse.ArgumentParser(description='Extract I3D clip features of videos')
    parser.add_argument('inputs', nargs='+', help='video files, folders of videos, or .txt '
                        'lists with one video path per line')
    parser.add_argument('--out', required=True, help='output feature folder')
    parser.add_argument('--checkpoint', help='converted I3D weights (default: convert them '
                        'into the cache folder on first use)')
    parser.add_argument('--cache-dir', help='cache of the weights (default: $MMEMTM_CACHE_DIR '
                        'or ~/.cache/mmemtm)')
    parser.add_argument('--batch-size', type=int, default=8, help='clips per forward pass')
    parser.add_argument('--device', default='cpu', help='device of the network, e.g. cuda:0')
    parser.add_argument('--num-threads', type=int, help='torch CPU threads')
    parser.add_argument('--overwrite', action='store_true',
                        help='extract videos again even when their .npy exists')
    parser.add_argument('--fps', type=float, default=defaults.fps)
    parser.add_argument('--window', type=int, default=defaults.window, help='frames per clip')
    parser.add_argument('--stride', type=int, default=defaults.stride,
                        help='frames between clip starts')
    parser.add_argument('--short-side', type=int, default=defaults.short_side)
    parser.add_argument('--crop-size', type=int, default=defaults.crop_size)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    logger = MMLogger.get_instance('mmemtm', log_level='INFO')
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    recipe = ClipFeatureRecipe(fps=args.fps, window=args.window, stride=args.stride,
                               short_side=args.short_side, crop_size=args.crop_size)
    videos = list_videos(args.inputs)
    logger.info(f'{len(videos)} videos -> {args.out}')
    extractor = build_i3d_feature_extractor(args.checkpoint, args.cache_dir, args.batch_size,
                                            args.device, recipe)
    summary = extract_features_to_folder(extractor, videos, args.out,
                                         skip_existing=not args.overwrite)
    logger.info(f'\nwritten {len(summary["written"])}, skipped (already done) '
                f'{len(summary["skipped"])}, failed {len(summary["failed"])}')
    for video_id, reason in summary['failed'].items():
        logger.error(f'failed {video_id}: {reason}')
    return 1 if summary['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
