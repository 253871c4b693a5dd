"""Extract features of videos: Kinetics-400 I3D clip features (one 1024-d vector per second,
the default) or CLIP ViT-L/14 frame features (``--backbone clip-vit-l-14``: 256 frames in 64
bins of 768-d embeddings, the recipe of the real Charades-STA CLIP set).

Example::

    python tools/extract_features.py data/charades/videos --out data/charades_sta/i3d_k400 \
        --batch-size 8 --num-threads 4
    python tools/extract_features.py data/charades/videos --out data/charades_sta/clip_l14 \
        --backbone clip-vit-l-14 [--clip-model FOLDER_OR_HF_ID] [--local-files-only]

Inputs are video files, folders of videos and ``.txt`` lists of video paths; a video's id is its
file stem. The output folder gets ``<video_id>.npy`` (``[n_seconds, 1024]`` or ``[64, 768]``),
``feature_shapes.json`` and ``feature_recipe.json`` (the layout ``NpyFeatureStore`` reads). Videos
already extracted are skipped on a rerun; unreadable videos are reported and skipped (the exit
status is then 1). The default recipe is documented in ``docs/feature_extraction.md``.
"""
import argparse
import sys

import mmemtm  # noqa: F401
import torch
from mmengine.logging import MMLogger

from mmemtm.apis.clip_frame_features import (CLIP_VIT_L14, CLIPFrameRecipe,
                                             build_clip_frame_extractor)
from mmemtm.apis.feature_extraction import (ClipFeatureRecipe, build_i3d_feature_extractor,
                                            extract_features_to_folder, list_videos)


def parse_args() -> argparse.Namespace:
    defaults = ClipFeatureRecipe()
    clip_defaults = CLIPFrameRecipe()
    parser = argparse.ArgumentParser(description='Extract I3D or CLIP features of videos')
    parser.add_argument('inputs', nargs='+', help='video files, folders of videos, or .txt '
                        'lists with one video path per line')
    parser.add_argument('--out', required=True, help='output feature folder')
    parser.add_argument('--backbone', choices=('i3d', 'clip-vit-l-14'), default='i3d',
                        help='feature network and recipe (default: i3d)')
    parser.add_argument('--checkpoint', help='converted I3D weights (default: convert them '
                        'into the cache folder on first use)')
    parser.add_argument('--cache-dir', help='cache of the weights (default: $MMEMTM_CACHE_DIR '
                        'or ~/.cache/mmemtm)')
    parser.add_argument('--batch-size', type=int,
                        help='clips (I3D, default 8) or frames (CLIP, default 32) per forward '
                        'pass')
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
    clip = parser.add_argument_group('CLIP (--backbone clip-vit-l-14)')
    clip.add_argument('--clip-model', default=CLIP_VIT_L14,
                      help='folder saved with save_pretrained, or a Hugging Face id looked up in '
                      'the Hugging Face cache (--cache-dir)')
    clip.add_argument('--local-files-only', action='store_true',
                      help='never download CLIP weights')
    clip.add_argument('--num-frames', type=int, default=clip_defaults.num_frames,
                      help='frames sampled uniformly over each video')
    clip.add_argument('--num-bins', type=int, default=clip_defaults.num_bins,
                      help='bins the frame embeddings are averaged into')
    clip.add_argument('--seconds-per-bin', type=float,
                      help='a fixed bin length instead of --num-bins bins per video (long '
                      'videos, at the training clip rate)')
    return parser.parse_args()


def build_extractor(args: argparse.Namespace):
    """The extractor the arguments ask for."""
    if args.backbone == 'clip-vit-l-14':
        recipe = CLIPFrameRecipe(num_frames=args.num_frames, num_bins=args.num_bins,
                                 seconds_per_bin=args.seconds_per_bin)
        return build_clip_frame_extractor(args.clip_model, args.cache_dir,
                                          args.local_files_only, args.batch_size or 32,
                                          args.device, recipe)
    recipe = ClipFeatureRecipe(fps=args.fps, window=args.window, stride=args.stride,
                               short_side=args.short_side, crop_size=args.crop_size)
    return build_i3d_feature_extractor(args.checkpoint, args.cache_dir, args.batch_size or 8,
                                       args.device, recipe)


def main() -> int:
    args = parse_args()
    logger = MMLogger.get_instance('mmemtm', log_level='INFO')
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    videos = list_videos(args.inputs)
    logger.info(f'{len(videos)} videos -> {args.out} ({args.backbone})')
    extractor = build_extractor(args)
    summary = extract_features_to_folder(extractor, videos, args.out,
                                         skip_existing=not args.overwrite)
    logger.info(f'\nwritten {len(summary["written"])}, skipped (already done) '
                f'{len(summary["skipped"])}, failed {len(summary["failed"])}')
    for video_id, reason in summary['failed'].items():
        logger.error(f'failed {video_id}: {reason}')
    return 1 if summary['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
