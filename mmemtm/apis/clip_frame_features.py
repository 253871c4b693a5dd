"""Frame features of raw videos: CLIP ViT-L/14 image embeddings averaged into bins.

The recipe (:class:`CLIPFrameRecipe`, defaults) of the real Charades-STA set
``clip_vitl14_vidmorp`` (768-d, 64 bins per video):

1. sample ``num_frames = 256`` frames uniformly over the video (:func:`uniform_frame_times`):
   frame ``k`` is the decoded frame shown at ``(k + 0.5) * duration / 256`` seconds, i.e. the
   latest frame whose timestamp is at or before that time, ``duration`` being the last frame's
   timestamp plus one frame interval;
2. preprocess each full-resolution frame with the model's CLIP image processor (resize the short
   side to 224 px, bicubic; centre crop 224x224; scale to ``[0, 1]``; normalise with CLIP's
   mean and std);
3. embed each frame with the CLIP vision tower and its projection (``image_embeds`` of
   ``CLIPVisionModelWithProjection``: 768-d for ViT-L/14), **not** L2-normalised;
4. average ``num_frames // num_bins = 4`` consecutive frame embeddings into each of the
   ``num_bins = 64`` bins (:func:`bin_means`).

A video of any length gives ``[64, 768]``, one bin per ``duration / 64`` seconds. For long videos,
``seconds_per_bin`` keeps the bin rate of the training videos instead (:meth:`plan`): the video
gets ``round(duration / seconds_per_bin)`` bins of 4 frames each.

The weights load with ``transformers`` from a local folder or the Hugging Face cache
(:func:`build_clip_frame_extractor`); nothing in the package downloads them implicitly when
``local_files_only=True``.
"""
import os.path as osp
import time
from dataclasses import asdict, dataclass
from typing import Dict, Optional

import numpy as np
import torch

from .feature_extraction import TIME_TOLERANCE, NativeVideo, VideoReadError

#: The Hugging Face id of OpenAI's CLIP ViT-L/14 (224 px) weights.
CLIP_VIT_L14 = 'openai/clip-vit-large-patch14'


class CLIPWeightsNotFoundError(FileNotFoundError):
    """CLIP weights are neither in the given folder nor in the Hugging Face cache."""


@dataclass(frozen=True)
class CLIPFrameRecipe:
    """How frames are sampled from a video and pooled into bins of CLIP embeddings.

    Args:
        num_frames: Frames sampled uniformly over a video (when ``seconds_per_bin`` is not
            given to :meth:`CLIPFrameFeatureExtractor.extract`).
        num_bins: Bins the frames are averaged into; ``num_frames`` must be a multiple of it.
        seconds_per_bin: If given, a video gets ``round(duration / seconds_per_bin)`` bins of
            ``num_frames // num_bins`` frames instead of ``num_bins`` (a fixed bin rate, for
            long videos).
    """

    num_frames: int = 256
    num_bins: int = 64
    seconds_per_bin: Optional[float] = None

    def __post_init__(self) -> None:
        if self.num_bins < 1 or self.num_frames < self.num_bins:
            raise ValueError(f'need 1 <= num_bins <= num_frames, got {self}')
        if self.num_frames % self.num_bins:
            raise ValueError(f'num_frames must be a multiple of num_bins, got {self}')
        if self.seconds_per_bin is not None and not self.seconds_per_bin > 0:
            raise ValueError(f'seconds_per_bin must be positive, got {self}')

    @property
    def frames_per_bin(self) -> int:
        """Consecutive frame embeddings averaged into one bin."""
        return self.num_frames // self.num_bins

    def to_dict(self) -> dict:
        """The recipe with the fixed steps spelled out, as written to ``feature_recipe.json``."""
        return dict(
            asdict(self),
            frames_per_bin=self.frames_per_bin,
            sampling='frame k of num_frames: the latest decoded frame at or before '
                     '(k + 0.5) * duration / num_frames s; duration = last frame timestamp + '
                     '1/average fps',
            preprocessing='the CLIP image processor of the weights on full-resolution RGB '
                          'frames (short side resize, bicubic; centre crop; CLIP mean/std)',
            embedding='image_embeds of CLIPVisionModelWithProjection (projected, not '
                      'L2-normalised)',
            pooling='mean of frames_per_bin consecutive frame embeddings per bin')


def uniform_frame_times(duration: float, num_frames: int) -> np.ndarray:
    """Centres ``(k + 0.5) * duration / num_frames`` (seconds) of ``num_frames`` equal parts."""
    if not duration > 0 or num_frames < 1:
        raise ValueError(f'need duration > 0 and num_frames >= 1, got {duration}, {num_frames}')
    return (np.arange(num_frames, dtype=np.float64) + 0.5) * duration / num_frames


def frames_at_times(timestamps: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Index ``[len(times)]`` of the decoded frame shown at each time (seconds): the latest
    frame whose timestamp is at or before it (frame 0 before the first timestamp)."""
    indices = np.searchsorted(np.asarray(timestamps, dtype=np.float64),
                              np.asarray(times, dtype=np.float64) + TIME_TOLERANCE,
                              side='right') - 1
    return np.maximum(indices, 0).astype(np.int64)


def bin_means(embeddings: np.ndarray, frames_per_bin: int) -> np.ndarray:
    """Frame embeddings ``[num_bins * frames_per_bin, dim]`` -> bin means ``[num_bins, dim]``."""
    frames, dim = embeddings.shape
    if frames % frames_per_bin:
        raise ValueError(f'{frames} frame embeddings do not fill bins of {frames_per_bin}')
    return embeddings.reshape(frames // frames_per_bin, frames_per_bin, dim).mean(axis=1)


def bins_for_duration(duration: float, seconds_per_bin: float) -> int:
    """Bins of ``seconds_per_bin`` seconds in a ``duration``-second video (at least one)."""
    if not seconds_per_bin > 0:
        raise ValueError(f'seconds_per_bin must be positive, got {seconds_per_bin}')
    return max(1, int(np.floor(duration / seconds_per_bin + 0.5)))


def clip_backbone_name(config) -> str:
    """The feature backbone name of a ``CLIPVisionConfig``: ``'clip-vit-l-14'`` for ViT-L/14
    (24 layers, width 1024, patch 14, 768-d projection), else ``'clip-vision'``."""
    is_l14 = (config.num_hidden_layers, config.hidden_size, config.patch_size,
              config.projection_dim) == (24, 1024, 14, 768)
    return 'clip-vit-l-14' if is_l14 else 'clip-vision'


class CLIPFrameFeatureExtractor:
    """Turns a video file into bins of CLIP image embeddings ``[num_bins, dim]``.

    Args:
        model: A ``transformers.CLIPVisionModelWithProjection``.
        image_processor: Its ``transformers.CLIPImageProcessor``.
        recipe: Frame sampling and binning.
        batch_size: Frames per forward pass.
        device: Device the network runs on.
        weights: Description of the weights, recorded in ``feature_recipe.json``.
    """

    def __init__(self, model: torch.nn.Module, image_processor,
                 recipe: Optional[CLIPFrameRecipe] = None, batch_size: int = 32,
                 device: str = 'cpu', weights: str = 'unspecified') -> None:
        if batch_size < 1:
            raise ValueError(f'batch_size must be positive, got {batch_size}')
        self.model = model.to(device).eval()
        self.image_processor = image_processor
        self.recipe = recipe or CLIPFrameRecipe()
        self.batch_size = batch_size
        self.device = device
        self.weights = weights
        self.feature_dim = int(model.config.projection_dim)
        self.backbone = clip_backbone_name(model.config)

    def describe(self) -> dict:
        """Contents of ``feature_recipe.json``: the recipe, the weights and the feature size."""
        return dict(self.recipe.to_dict(), backbone=self.backbone, weights=self.weights,
                    feature_dim=self.feature_dim)

    def open(self, video_path: str) -> NativeVideo:
        """Open ``video_path`` (:class:`VideoReadError` if unreadable)."""
        return NativeVideo(video_path)

    def plan(self, video: NativeVideo, seconds_per_bin: Optional[float] = None) -> np.ndarray:
        """Decoded-frame indices ``[n_bins, frames_per_bin]`` of every bin of ``video``.

        ``n_bins`` is ``recipe.num_bins``, or ``round(duration / seconds_per_bin)`` when
        ``seconds_per_bin`` (default: the recipe's) is given; the ``n_bins * frames_per_bin``
        frames are sampled uniformly over the video either way.
        """
        per_bin = self.recipe.frames_per_bin
        if seconds_per_bin is None:
            seconds_per_bin = self.recipe.seconds_per_bin
        n_bins = (self.recipe.num_bins if seconds_per_bin is None
                  else bins_for_duration(video.duration, seconds_per_bin))
        times = uniform_frame_times(video.duration, n_bins * per_bin)
        return frames_at_times(video.timestamps, times).reshape(n_bins, per_bin)

    @torch.no_grad()
    def embed(self, frames: np.ndarray) -> torch.Tensor:
        """Embeddings ``[B, dim]`` (projected, not normalised) of uint8 RGB frames
        ``[B, H, W, 3]``."""
        pixels = self.image_processor(images=list(frames), return_tensors='pt')['pixel_values']
        return self.model(pixel_values=pixels.to(self.device)).image_embeds.float().cpu()

    def extract(self, video_path: str, timings: Optional[Dict[str, float]] = None,
                seconds_per_bin: Optional[float] = None) -> np.ndarray:
        """Bin features ``[n_bins, dim]`` (float32) of one video (see :meth:`plan`).

        Args:
            video_path: Video file.
            timings: If given, seconds spent are added under ``'decode'`` and ``'network'``
                (the network's share includes the image processor).
            seconds_per_bin: Bin length in seconds (long videos); default: the recipe's
                (``None``: ``num_bins`` bins).

        Raises:
            VideoReadError: The video cannot be opened or decoded.
        """
        timings = {} if timings is None else timings
        tic = time.perf_counter()
        video = self.open(video_path)
        frame_ids = self.plan(video, seconds_per_bin).reshape(-1)
        timings['decode'] = timings.get('decode', 0.0) + time.perf_counter() - tic
        embeddings = []
        for first in range(0, len(frame_ids), self.batch_size):
            tic = time.perf_counter()
            unique, inverse = np.unique(frame_ids[first:first + self.batch_size],
                                        return_inverse=True)
            frames = video.frames(unique)
            toc = time.perf_counter()
            embeddings.append(self.embed(frames)[torch.from_numpy(inverse.reshape(-1))])
            timings['decode'] = timings.get('decode', 0.0) + toc - tic
            timings['network'] = timings.get('network', 0.0) + time.perf_counter() - toc
        frames_embedded = torch.cat(embeddings).numpy()
        return bin_means(frames_embedded, self.recipe.frames_per_bin).astype(np.float32)


def _check_processor_fits(model, processor, source: str) -> None:
    crop = getattr(processor, 'crop_size', None) or {}
    side = crop.get('height') if isinstance(crop, dict) else crop
    if side is not None and int(side) != int(model.config.image_size):
        raise ValueError(f'CLIP weights {source}: the image processor crops {side} px but the '
                         f'vision model expects {model.config.image_size} px images')


def build_clip_frame_extractor(model: str = CLIP_VIT_L14, cache_dir: Optional[str] = None,
                               local_files_only: bool = False, batch_size: int = 32,
                               device: str = 'cpu', recipe: Optional[CLIPFrameRecipe] = None
                               ) -> CLIPFrameFeatureExtractor:
    """The CLIP frame-feature extractor of the default recipe, weights read by ``transformers``.

    Args:
        model: A local folder holding a saved ``CLIPVisionModelWithProjection`` (or
            ``CLIPModel``) and its ``CLIPImageProcessor``, or a Hugging Face id (default: OpenAI's
            CLIP ViT-L/14) looked up in the Hugging Face cache.
        cache_dir: Hugging Face cache folder (default: ``$HF_HOME/hub``).
        local_files_only: Never download: weights missing from the folder or cache are an
            error (:class:`CLIPWeightsNotFoundError`).
        batch_size: Frames per forward pass.
        device: Device of the network.
        recipe: Frame sampling and binning (default: 256 frames in 64 bins).
    """
    from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection
    if osp.isdir(model):
        local_files_only = True
    elif osp.exists(model) or model.startswith(('.', '/')):
        raise CLIPWeightsNotFoundError(f'CLIP weights folder {model} does not exist')
    options = dict(cache_dir=cache_dir, local_files_only=local_files_only)
    try:
        network = CLIPVisionModelWithProjection.from_pretrained(model, **options)
        processor = CLIPImageProcessor.from_pretrained(model, **options)
    except OSError as exc:
        where = 'folder' if osp.isdir(model) else f'Hugging Face cache {cache_dir or "(default)"}'
        raise CLIPWeightsNotFoundError(
            f'cannot load CLIP weights {model!r} from the {where}: {exc}. Download them once '
            f'where there is network access (e.g. `huggingface-cli download {CLIP_VIT_L14}`) or '
            'pass a folder saved with save_pretrained') from exc
    _check_processor_fits(network, processor, model)
    return CLIPFrameFeatureExtractor(network, processor, recipe, batch_size, device,
                                     weights=f'{model} (CLIPVisionModelWithProjection)')
