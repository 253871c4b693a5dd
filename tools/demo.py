"""Ground sentences in a video file: print the moments and save a figure.

    python tools/demo.py VIDEO "person turn a light on." ["another sentence" ...] \
        --config configs/emtm_charades.py --checkpoint CKPT [--gt 24.3 30.4] [--out demo.png]

The video's features are extracted once with the extractor of the backbone the model's config
names (``feature_backbone``: Kinetics-400 I3D, weights converted on first use, or CLIP ViT-L/14,
weights from ``--clip-model`` or the Hugging Face cache; see docs/feature_extraction.md), or read
from ``--features FILE.npy``; every sentence is grounded against them. A video much longer than
the training videos (``--long-video auto``) is grounded in sliding windows as long as a training
video (the config's ``long_video``, or ``--window``/``--stride`` in seconds), with a progress bar
over the windows; its moments are merged across windows. The figure (first sentence, or one per
sentence with ``--all-figures``) shows a strip of frames along the time axis, the predicted and,
with ``--gt``, the true moment, and the model's start/end distributions (each window's, for a
long video). ``--checkpoint FILE.onnx`` (from ``tools/deployment/export_onnx.py``) runs the
grounder's network in ONNX Runtime.
"""
import argparse
import os.path as osp
from typing import List, Optional

import mmemtm  # noqa: F401
from mmengine.config import DictAction

from mmemtm.apis import GroundingResult, VideoGrounder, checkpoint_backend, init_grounder
from mmemtm.apis.feature_backbones import extractor_for_model
from mmemtm.apis.feature_extraction import ClipFeatureRecipe, DecordVideo
from mmemtm.apis.grounding_demo import PLANTED_NOTE, frame_strip, trained_on_planted
from mmemtm.apis.long_video import LONG_VIDEO_MODES, WindowSpec, window_spec_from_config
from mmemtm.visualization import save_figure, video_grounding_figure


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Ground sentences in a video')
    parser.add_argument('video', help='video file')
    parser.add_argument('sentences', nargs='+', help='sentences to ground')
    parser.add_argument('--config', required=True, help='grounder config')
    parser.add_argument('--checkpoint', required=True,
                        help='grounder checkpoint (.pth), or an exported .onnx graph (run in '
                        'ONNX Runtime)')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='unpickle the grounder checkpoint fully (any object: it can run '
                        'code; only for files you trust)')
    parser.add_argument('--features', help='pre-extracted features [n_clips, dim] (.npy)')
    parser.add_argument('--i3d-checkpoint', help='converted I3D weights (default: convert once '
                        'into the cache)')
    parser.add_argument('--clip-model', help='CLIP weights: a folder saved with '
                        'save_pretrained or a Hugging Face id (default: '
                        'openai/clip-vit-large-patch14 from the Hugging Face cache)')
    parser.add_argument('--local-files-only', action='store_true',
                        help='never download CLIP weights')
    parser.add_argument('--cache-dir', help='cache of the I3D download and weights, or the '
                        'Hugging Face cache for CLIP')
    parser.add_argument('--long-video', choices=LONG_VIDEO_MODES, default='auto',
                        help='sliding windows: auto (videos longer than twice a window), '
                        'always, never')
    parser.add_argument('--window', type=float,
                        help='window length in seconds (default: the config\'s long_video, '
                        'else the median training video)')
    parser.add_argument('--stride', type=float,
                        help='seconds between window starts (default: half a window)')
    parser.add_argument('--gt', nargs=2, type=float, metavar=('START', 'END'),
                        help='true moment of the first sentence, in seconds')
    parser.add_argument('--topk', type=int, default=3, help='moments printed per sentence')
    parser.add_argument('--out', default='demo_grounding.png', help='figure file')
    parser.add_argument('--all-figures', action='store_true',
                        help='one figure per sentence (<out>_<i>.png)')
    parser.add_argument('--num-frames', type=int, default=8, help='frames in the strip')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries of the grounder')
    return parser.parse_args(argv)


def window_spec(cfg, args: argparse.Namespace) -> Optional[WindowSpec]:
    """The windows ``--window``/``--stride`` ask for (over the config's), or None (the
    config's own)."""
    if args.window is None and args.stride is None:
        return None
    return window_spec_from_config(cfg, window=args.window, stride=args.stride)


def print_result(result: GroundingResult, topk: int) -> None:
    print(f'"{result.sentence}"')
    for rank, moment in enumerate(result.moments[:topk], 1):
        print(f'  {rank}. {moment.start:7.2f} s - {moment.end:7.2f} s   score {moment.score:.4f}')


def figure_paths(out: str, count: int) -> List[str]:
    if count == 1:
        return [out]
    stem, ext = osp.splitext(out)
    return [f'{stem}_{i}{ext or ".png"}' for i in range(count)]


def main(argv: Optional[List[str]] = None) -> List[str]:
    args = parse_args(argv)
    model = init_grounder(args.config, args.checkpoint, device=args.device,
                          cfg_options=args.cfg_options, trust_checkpoint=args.trust_checkpoint,
                          backend=checkpoint_backend(args.checkpoint))
    planted = trained_on_planted(model.cfg)
    recipe = ClipFeatureRecipe()
    video = DecordVideo(args.video, recipe.short_side, recipe.crop_size)
    spec = window_spec(model.cfg, args)
    if args.features:
        grounder = VideoGrounder.from_features(model, args.features, video.duration,
                                               long_video=args.long_video, window_spec=spec)
    else:
        extractor = extractor_for_model(
            model.cfg, device=args.device, i3d_checkpoint=args.i3d_checkpoint,
            clip_model=args.clip_model, cache_dir=args.cache_dir,
            local_files_only=args.local_files_only)
        grounder = VideoGrounder.from_video(model, args.video, extractor=extractor,
                                            long_video=args.long_video, window_spec=spec)
    results = grounder.ground(args.sentences)
    if planted:
        print(PLANTED_NOTE)
    for result in results:
        print_result(result, args.topk)
    frames, times = frame_strip(video, args.num_frames)
    drawn = results if args.all_figures else results[:1]
    paths = figure_paths(args.out, len(drawn))
    for i, (result, path) in enumerate(zip(drawn, paths)):
        best = result.moments[0]
        fig = video_grounding_figure(
            result.sentence, grounder.duration, (best.start, best.end), result.start_prob,
            result.end_prob, result.clip_seconds, frames, times,
            gt=tuple(args.gt) if args.gt and i == 0 else None,
            note=PLANTED_NOTE if planted else '')
        save_figure(fig, path)
        print(f'figure: {path}')
    return paths


if __name__ == '__main__':
    main()
