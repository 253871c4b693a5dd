"""Grounding sentences in a video with a trained model.

Example::

    from mmemtm.apis import init_grounder, VideoGrounder

    model = init_grounder('configs/emtm_tacos.py', 'work_dirs/emtm_tacos/best.pth')
    video = VideoGrounder.from_video(model, 'kitchen.mp4')           # features, once
    for result in video.ground(['he took out a pan', 'he washed the pan']):
        print(result.sentence, result.moments[0])                    # start/end in seconds

Features are extracted once per video, by the extractor of the backbone the model was trained
on (I3D or CLIP ViT-L/14, :mod:`mmemtm.apis.feature_backbones`); videos much longer than the
training videos are grounded in sliding windows (:mod:`mmemtm.apis.long_video`). Models whose
video encoding does not depend on the sentence (EMTM) encode the video once for all its
sentences.

With ``backend='onnxruntime'`` the checkpoint is an ONNX graph exported by
``tools/deployment/export_onnx.py`` (:mod:`mmemtm.deployment`) and the network runs in ONNX
Runtime; everything else (tokenisation, decoding, :class:`VideoGrounder`) is the same::

    model = init_grounder('configs/emtm_tacos.py', 'emtm_tacos.onnx', backend='onnxruntime')
"""
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
import torch
from mmaction.registry import MODELS, TRANSFORMS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import CheckpointLoader, load_state_dict

from mmemtm.compat import trusted_checkpoints
from mmemtm.datasets.feature_store import load_feature_file
from mmemtm.datasets.transforms import downsample_clips
from mmemtm.deployment import OnnxRuntimeGrounder, onnx_model_config
from mmemtm.models.data_preprocessors import length_mask, pad_stack
from mmemtm.models.grounders import BaseGrounder, spans_to_moments
from mmemtm.models.utils.decoding import NonFiniteScoresError
from mmemtm.utils.config_options import merge_cfg_options
from .feature_backbones import test_feature_loader


@dataclass(frozen=True)
class Moment:
    """A predicted moment: ``start`` and ``end`` in seconds, and its score."""
    start: float
    end: float
    score: float


@dataclass
class GroundingResult:
    """Ranked moments of one sentence, and the model's boundary distributions.

    ``start_prob`` / ``end_prob`` are ``[v_len]`` probabilities over the model's clips, each
    clip lasting ``clip_seconds``.
    """
    sentence: str
    moments: List[Moment]
    start_prob: np.ndarray = field(repr=False)
    end_prob: np.ndarray = field(repr=False)
    clip_seconds: float = 0.0


class CheckpointMismatchError(ValueError):
    """A checkpoint lacks weights of the model it is loaded into; the message names both."""


def read_checkpoint_weights(checkpoint: str) -> Dict[str, torch.Tensor]:
    """The model weights of a local checkpoint file, on the CPU (a ``module.`` prefix of
    DDP-wrapped models is removed). The file is read by mmemtm's checkpoint loader
    (:func:`mmemtm.compat.load_local_checkpoint`: no code can run, unless inside
    :func:`mmemtm.compat.trusted_checkpoints`)."""
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint} does not exist')
    content = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu', logger='silent')
    weights = content.get('state_dict', content) if isinstance(content, dict) else None
    if not isinstance(weights, Mapping):
        raise CheckpointMismatchError(f'checkpoint {checkpoint} holds no state dict of weights '
                                      f'(found {type(content).__name__})')
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in weights.items()}


def check_checkpoint_fits(model: torch.nn.Module, weights: Mapping[str, torch.Tensor],
                          source: str) -> None:
    """Fail unless ``weights`` hold every entry of the model's state dict, with its shape.

    mmengine loads checkpoints non-strictly: weights of another model (or another config of the
    same model) are skipped with a warning and the model keeps random values, so a test would
    silently score an untrained network. Extra entries are allowed (e.g. an EMTM checkpoint
    tested with the student-only config). BatchNorm's ``num_batches_tracked`` counters are
    ignored, as mmengine does.

    Raises:
        CheckpointMismatchError: Naming ``source``, how many weights fit, and examples of the
            missing or differently shaped ones.
    """
    expected = {k: v for k, v in model.state_dict().items()
                if not k.endswith('num_batches_tracked')}
    missing = [k for k in expected if k not in weights]
    reshaped = [f'{k} {tuple(weights[k].shape)} (model: {tuple(v.shape)})'
                for k, v in expected.items()
                if k in weights and tuple(getattr(weights[k], 'shape', ())) != tuple(v.shape)]
    if not missing and not reshaped:
        broken = [k for k, v in expected.items() if torch.is_tensor(weights[k])
                  and weights[k].is_floating_point() and not torch.isfinite(weights[k]).all()]
        if broken:
            raise CheckpointMismatchError(
                f'checkpoint {source} holds NaN or inf in {len(broken)} of the '
                f'{len(expected)} weights of the {type(model).__name__} (e.g. '
                f'{", ".join(broken[:3])}): its scores would be NaN; did the training diverge '
                'before it was saved? Use an earlier checkpoint')
    if missing or reshaped:
        fitting = len(expected) - len(missing) - len(reshaped)
        details = [f'{len(missing)} missing, e.g. {", ".join(missing[:5])}'] if missing else []
        if reshaped:
            details.append(f'{len(reshaped)} of another shape, e.g. {"; ".join(reshaped[:3])}')
        raise CheckpointMismatchError(
            f'checkpoint {source} does not fit the {type(model).__name__} of the config: only '
            f'{fitting} of its {len(expected)} weights are in it ({"; ".join(details)}). Is it '
            'a checkpoint of another model or config?')


def load_grounder_checkpoint(model: torch.nn.Module, checkpoint: str) -> None:
    """Load a local checkpoint into ``model`` after :func:`check_checkpoint_fits`."""
    weights = read_checkpoint_weights(checkpoint)
    check_checkpoint_fits(model, weights, checkpoint)
    load_state_dict(model, weights, strict=False, logger='silent')


#: Inference backends of :func:`init_grounder`.
BACKENDS = ('torch', 'onnxruntime')


def checkpoint_backend(checkpoint: Optional[str]) -> str:
    """The backend that runs a checkpoint file: ``'onnxruntime'`` for ``.onnx`` files, else
    ``'torch'`` (how ``tools/test.py`` and ``tools/demo.py`` choose)."""
    return 'onnxruntime' if checkpoint and checkpoint.lower().endswith('.onnx') else 'torch'


def init_grounder(config: Union[str, Config], checkpoint: Optional[str] = None,
                  device: str = 'cpu', cfg_options: Optional[dict] = None,
                  trust_checkpoint: bool = False, backend: Optional[str] = None,
                  num_threads: Optional[int] = None) -> BaseGrounder:
    """Build a grounder from its config and load its checkpoint (a local file).

    Args:
        config: Config file or object.
        checkpoint: Checkpoint file (None: random weights, for tests and benchmarks); with
            ``backend='onnxruntime'``, the ``.onnx`` graph exported from such a checkpoint.
        device: Device to run on (``'cpu'`` only with ONNX Runtime).
        cfg_options: Overrides merged into the config.
        trust_checkpoint: Unpickle the checkpoint fully (any object: it can run code; only for
            files you trust), with a warning. Without it, objects outside mmemtm's allowlist are
            refused with :class:`mmemtm.compat.CheckpointTrustError`. ONNX files hold no pickled
            objects; the option does not apply to them.
        backend: ``'torch'`` (the PyTorch model) or ``'onnxruntime'``
            (:class:`mmemtm.deployment.OnnxRuntimeGrounder`, same interface); None: the
            checkpoint's (:func:`checkpoint_backend`: ``'onnxruntime'`` for a ``.onnx`` file).
        num_threads: ONNX Runtime intra-op threads (default: ``torch.get_num_threads()``).

    Returns:
        BaseGrounder: The model in eval mode, with its config as ``model.cfg``.
    """
    if backend is None:
        backend = checkpoint_backend(checkpoint)
    if backend not in BACKENDS:
        raise ValueError(f'backend must be one of {BACKENDS}, got {backend!r}')
    if checkpoint is not None and checkpoint_backend(checkpoint) != backend:
        raise ValueError(f'checkpoint {checkpoint} needs backend='
                         f'{checkpoint_backend(checkpoint)!r}, got backend={backend!r}')
    if backend == 'onnxruntime' and (checkpoint is None or device != 'cpu'):
        raise ValueError('the onnxruntime backend runs an exported .onnx file on the CPU, got '
                         f'checkpoint={checkpoint!r}, device={device!r}')
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    merge_cfg_options(cfg, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    if backend == 'onnxruntime':
        model = MODELS.build(onnx_model_config(cfg.model, checkpoint, num_threads))
    else:
        model = MODELS.build(cfg.model)
        if checkpoint is not None:
            with trusted_checkpoints(trust_checkpoint):
                load_grounder_checkpoint(model, checkpoint)
    model.cfg = cfg
    model.checkpoint_file = checkpoint
    return model.to(device).eval()


def model_device(model: BaseGrounder) -> torch.device:
    """The device a grounder's inputs go to (the CPU for ONNX Runtime)."""
    if isinstance(model, OnnxRuntimeGrounder):
        return torch.device('cpu')
    return next(model.parameters()).device


def _test_transform(cfg: Config, name: str) -> dict:
    for transform in cfg.test_dataloader.dataset.pipeline:
        if transform['type'] == name:
            return dict(transform)
    raise ValueError(f'the test pipeline of the config has no {name}')


def _feature_loader(cfg: Config) -> dict:
    """The test pipeline's feature loader (:func:`test_feature_loader`), which must exist."""
    loader = test_feature_loader(cfg)
    if loader is None:
        raise ValueError('the test pipeline of the config has no LoadClipFeatures')
    return loader


class VideoGrounder:
    """Ground any number of sentences in one video.

    Args:
        model: A grounder from :func:`init_grounder` (its ``cfg`` gives the test pipeline), with
            either backend.
        features: Clip features ``[n_clips, dim]`` of the video.
        duration: Video duration in seconds.
        video_id: Name of the video (used in query ids and messages).
        batch_size: Sentences per forward pass.
    """

    def __init__(self, model: BaseGrounder, features: np.ndarray, duration: float,
                 video_id: str = 'video', batch_size: int = 64) -> None:
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2 or len(features) == 0:
            raise ValueError(f'features of {video_id} must be [n_clips, dim], got '
                             f'{features.shape}')
        if not duration > 0:
            raise ValueError(f'duration of {video_id} must be positive, got {duration}')
        load = _feature_loader(model.cfg)
        if load.get('feature_dim') not in (None, features.shape[1]):
            raise ValueError(f'features of {video_id} have dim {features.shape[1]}, the model '
                             f'expects {load["feature_dim"]}')
        self.model = model
        self.duration = float(duration)
        self.video_id = video_id
        self.batch_size = batch_size
        self.tokenize = TRANSFORMS.build(_test_transform(model.cfg, 'TokenizeQuery'))
        max_vlen = _test_transform(model.cfg, 'DownsampleClips')['max_vlen']
        clips = torch.from_numpy(downsample_clips(features, max_vlen))
        self.v_len = len(clips)
        length = model.data_preprocessor.max_vlen or self.v_len
        device = model_device(model)
        self.video = pad_stack([clips], length).to(device)
        self.video_mask = length_mask([self.v_len], length, device)

    @classmethod
    def from_features(cls, model: BaseGrounder, features: Union[str, np.ndarray],
                      duration: float, long_video: str = 'never', window_spec=None,
                      **kwargs) -> 'VideoGrounder':
        """From pre-extracted features: an array or a ``.npy`` file.

        Args:
            long_video: ``'never'`` (default: the whole video at once), ``'auto'`` (sliding
                windows when the video is much longer than the training videos) or
                ``'always'``; see :mod:`mmemtm.apis.long_video`. With windows the result is a
                :class:`mmemtm.apis.LongVideoGrounder` (same ``ground``).
            window_spec: The windows (a :class:`mmemtm.apis.WindowSpec`; default: the
                config's ``long_video``, else the median training duration).
        """
        if isinstance(features, str):
            kwargs.setdefault('video_id', osp.splitext(osp.basename(features))[0])
            load = _feature_loader(model.cfg)
            features = load_feature_file(features, load.get('feature_dim'))
        if long_video == 'never':
            return cls(model, features, duration, **kwargs)
        from .long_video import grounder_for_features
        return grounder_for_features(model, features, duration, long_video, window_spec,
                                     **kwargs)

    @classmethod
    def from_video(cls, model: BaseGrounder, video: str, extractor=None,
                   long_video: str = 'auto', window_spec=None,
                   extractor_options: Optional[dict] = None, **kwargs) -> 'VideoGrounder':
        """From a video file, with the extractor of the model's feature backbone.

        The backbone is the config's ``feature_backbone`` (or follows from its feature
        dimension, :mod:`mmemtm.apis.feature_backbones`): Kinetics-400 I3D (one feature per
        second) or CLIP ViT-L/14 frame features (64 bins per video).

        Args:
            model: The grounder.
            video: Video file (anything decord reads).
            extractor: An extractor to use instead (:class:`ClipFeatureExtractor`,
                :class:`mmemtm.apis.CLIPFrameFeatureExtractor`); one making other features than
                the model's is refused before any frame is decoded
                (:class:`mmemtm.apis.FeatureBackboneMismatchError`).
            long_video: ``'auto'`` (default): videos much longer than the training videos are
                extracted at the training clip rate and grounded in sliding windows
                (:class:`mmemtm.apis.LongVideoGrounder`); ``'always'``; ``'never'``.
            window_spec: The windows (default: from the config, see :meth:`from_features`).
            extractor_options: Options of the default extractor
                (:func:`mmemtm.apis.build_feature_extractor`: ``device``, ``i3d_checkpoint``,
                ``clip_model``, ``cache_dir``, ...).
        """
        from .long_video import grounder_for_video
        return grounder_for_video(model, video, extractor, long_video, window_spec,
                                  extractor_options, **kwargs)

    def _query_batch(self, sentences: Sequence[str], first: int) -> dict:
        queries = [self.tokenize(dict(sentence=s, query_id=f'{self.video_id}#{first + i}'))
                   for i, s in enumerate(sentences)]
        words = [torch.from_numpy(q['word_ids']) for q in queries]
        chars = [torch.from_numpy(q['char_ids']) for q in queries]
        n_words = max(len(w) for w in words)
        n_chars = max(max(c.shape[1] for c in chars), self.model.data_preprocessor.min_chars)
        device = self.video.device
        return dict(
            video=self.video, video_mask=self.video_mask,
            words=pad_stack(words, n_words).to(device),
            word_mask=length_mask([len(w) for w in words], n_words, device),
            chars=pad_stack([torch.nn.functional.pad(c, (0, n_chars - c.shape[1]))
                             for c in chars], n_words).to(device))

    @torch.no_grad()
    def ground(self, sentences: Union[str, Sequence[str]]) -> List[GroundingResult]:
        """Ranked moments (seconds) of each sentence, best first."""
        sentences = [sentences] if isinstance(sentences, str) else list(sentences)
        results = []
        for first in range(0, len(sentences), self.batch_size):
            chunk = sentences[first:first + self.batch_size]
            try:
                out = self.model.predict_one_video(self._query_batch(chunk, first))
            except NonFiniteScoresError as exc:
                source = getattr(self.model, 'checkpoint_file', None) or 'no checkpoint'
                raise NonFiniteScoresError(
                    f'{type(self.model).__name__} ({source}), video {self.video_id}, sentences '
                    f'{first}-{first + len(chunk) - 1}: {exc}') from None
            for b, sentence in enumerate(chunk):
                moments, scores = spans_to_moments(out['spans'][b], out['scores'][b], self.v_len,
                                                   self.duration)
                results.append(GroundingResult(
                    sentence=sentence,
                    moments=[Moment(float(m[0]), float(m[1]), float(s))
                             for m, s in zip(moments, scores)],
                    start_prob=self._prob(out, 'start_prob', b),
                    end_prob=self._prob(out, 'end_prob', b),
                    clip_seconds=self.duration / self.v_len))
        return results

    def _prob(self, out: dict, key: str, b: int) -> np.ndarray:
        if key not in out:
            return np.zeros(0, dtype=np.float32)
        return out[key][b, :self.v_len].cpu().numpy()
