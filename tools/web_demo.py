"""A web page that grounds sentences in a video (Gradio), served on this machine.

    python tools/web_demo.py --config configs/emtm_tacos_demo.py \
        --checkpoint work_dirs/demo/emtm_tacos_demo/best_R1@0.7_epoch_8.pth      # or --onnx FILE

then open http://127.0.0.1:7860. Pick a bundled video (the videos under ``demo/`` and
``../shared/data/videos``, with the pre-extracted features found for them) or upload one, type
sentences (one per line), and see their moments, frames of the best moments and the model's
start/end distributions; more models can be loaded from the page. Features of a video without
pre-extracted ones are extracted once by the model's extractor (I3D weights from
``--i3d-checkpoint`` or the cache; nothing is downloaded without ``--allow-downloads``). The page
never reaches the network: no share link, no analytics. Serve it on another address than this
machine's (``--host 0.0.0.0``) only on a network you trust: the page loads configs (Python files)
by their path on this machine.
"""
import argparse
import glob
import os
import os.path as osp
from typing import List, Optional, Tuple

os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')

import mmemtm  # noqa: F401,E402
from mmengine.config import DictAction  # noqa: E402

from mmemtm.apis.web_demo import (GroundingDemo, build_app, find_bundled_videos,  # noqa: E402
                                  launch_app, load_demo_model)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED_DATA = osp.join(osp.dirname(REPO), 'shared', 'data')
VIDEO_DIRS = [osp.join(REPO, 'demo'), osp.join(SHARED_DATA, 'videos')]
FEATURE_DIRS = {
    'i3d': [osp.join(SHARED_DATA, 'charades_sta', 'i3d_k400_selfextracted')],
    'clip-vit-l-14': [osp.join(SHARED_DATA, 'charades_sta', 'clip_vitl14_vidmorp', 'features')],
}
DEFAULT_VIDEO = '3MSZA.mp4'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Serve the grounding web demo')
    parser.add_argument('--config', required=True, help='grounder config')
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument('--checkpoint', help='grounder checkpoint (.pth)')
    model.add_argument('--onnx', help='exported ONNX graph of the grounder (ONNX Runtime)')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to serve on (0.0.0.0: every interface)')
    parser.add_argument('--port', type=int, default=7860)
    parser.add_argument('--videos', nargs='+', default=VIDEO_DIRS,
                        help='folders of the bundled videos')
    parser.add_argument('--features', nargs='+', action=DictAction, default=None,
                        metavar='BACKBONE=DIR',
                        help='folders of pre-extracted features <video stem>.npy, by backbone '
                        '(i3d, clip-vit-l-14); default: those under ../shared/data')
    parser.add_argument('--i3d-checkpoint', help='converted I3D weights (default: the cache)')
    parser.add_argument('--clip-model', help='CLIP weights: a folder or Hugging Face id')
    parser.add_argument('--cache-dir', help='cache of the I3D weights, or the Hugging Face '
                        'cache for CLIP')
    parser.add_argument('--allow-downloads', action='store_true',
                        help='download missing extractor weights (default: report them)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries of the grounder')
    return parser.parse_args(argv)


def feature_dirs(args: argparse.Namespace) -> dict:
    if args.features is None:
        return FEATURE_DIRS
    return {name: [folders] if isinstance(folders, str) else list(folders)
            for name, folders in args.features.items()}


def serve(args: argparse.Namespace, block: bool = True) -> Tuple[object, str]:
    """Build the demo of ``args`` and serve its page; returns the app and its URL (at once
    with ``block=False``)."""
    model = load_demo_model(args.config, args.checkpoint or args.onnx, device=args.device,
                            cfg_options=args.cfg_options)
    videos = find_bundled_videos(args.videos, feature_dirs(args))
    demo = GroundingDemo([model], videos, device=args.device,
                         i3d_checkpoint=args.i3d_checkpoint, clip_model=args.clip_model,
                         cache_dir=args.cache_dir, allow_downloads=args.allow_downloads)
    configs = sorted(osp.relpath(c) for c in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                                                       recursive=True) if '_base_' not in c)
    app = build_app(demo, configs, default_video=DEFAULT_VIDEO)
    folders = sorted({osp.dirname(v.path) for v in videos})
    return app, launch_app(app, args.host, args.port, folders, block=block)


def main(argv: Optional[List[str]] = None) -> None:
    serve(parse_args(argv))


if __name__ == '__main__':
    main()
