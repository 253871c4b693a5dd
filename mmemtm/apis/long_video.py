"""Grounding in videos much longer than the training videos: sliding windows.

A model trained on 30-s videos at 64 clips each cannot place a moment in a 30-min video squeezed
into the same 64 clips (28 s per clip). :class:`LongVideoGrounder` instead cuts the video's
features, taken at the training clip rate, into windows as long as a typical training video
(:class:`WindowSpec`, from the config's ``long_video`` or the median training duration), grounds
every sentence in every window, shifts each window's moments to absolute seconds and merges them
across windows with score-aware non-maximum suppression (:func:`merge_moments`).

Window scores are compared as the model gives them: a window that does not hold the moment still
ranks its own best guess, scored on that window alone (most grounders normalise their scores per
video), so the merged top moment is the best-scored guess of all windows.
"""
import logging
import math
import os.path as osp
import sys
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.utils import ProgressBar

from .inference import GroundingResult, Moment, VideoGrounder

#: How long a video must be, in windows, before ``long_video='auto'`` grounds it in windows.
DEFAULT_MIN_RATIO = 2.0


@dataclass(frozen=True)
class WindowSpec:
    """Sliding windows over a long video.

    Args:
        window: Window length in seconds (a typical training video's duration).
        stride: Seconds between window starts (``window / 2``: half-overlapping).
        min_ratio: ``long_video='auto'`` uses windows for videos longer than
            ``min_ratio * window`` seconds.
        iou_threshold: Moments of different windows overlapping more than this (temporal IoU)
            are merged into the best-scored one.
        topk: Moments kept per sentence after merging.
    """

    window: float
    stride: float
    min_ratio: float = DEFAULT_MIN_RATIO
    iou_threshold: float = 0.5
    topk: int = 5

    def __post_init__(self) -> None:
        if not (self.window > 0 and 0 < self.stride <= self.window):
            raise ValueError(f'need window > 0 and 0 < stride <= window (seconds), got {self}')
        if not 0 <= self.iou_threshold <= 1 or self.topk < 1 or self.min_ratio < 1:
            raise ValueError(f'need 0 <= iou_threshold <= 1, topk >= 1, min_ratio >= 1, '
                             f'got {self}')

    def applies_to(self, duration: float) -> bool:
        """Whether a ``duration``-second video is long enough for windows (``'auto'``)."""
        return duration > self.min_ratio * self.window


def typical_training_duration(cfg: Config) -> float:
    """Median duration (seconds) of the training videos, read from the train annotations.

    Raises:
        FileNotFoundError: The config's train annotation file is not here.
    """
    from mmemtm.datasets import read_queries
    dataset = cfg.train_dataloader.dataset
    ann_file = dataset.get('ann_file')
    if not ann_file or not osp.isfile(ann_file):
        raise FileNotFoundError(
            f'cannot tell the training videos\' duration: the train annotations {ann_file} of '
            f'{cfg.filename or "the config"} are not here; set long_video=dict(window=SECONDS, '
            'stride=SECONDS) in the config or pass a WindowSpec')
    queries, _ = read_queries(ann_file, dataset.get('reader'), skip_invalid=True)
    durations = {q['video_id']: q['duration'] for q in queries}
    return float(np.median(list(durations.values())))


def window_spec_from_config(cfg: Config, **overrides) -> WindowSpec:
    """The config's ``long_video = dict(window=..., stride=..., ...)`` (seconds), else windows
    of the median training duration with stride half of it; ``overrides`` (non-None) win (a
    new ``window`` without a ``stride`` gets half of it)."""
    options = dict(cfg.get('long_video') or {})
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if 'window' in overrides and 'stride' not in overrides:
        options.pop('stride', None)  # half the new window, not the config's stride
    options.update(overrides)
    if 'window' not in options:
        options['window'] = typical_training_duration(cfg)
    options.setdefault('stride', options['window'] / 2)
    return WindowSpec(**options)


def plan_windows(n_bins: int, window_bins: int, stride_bins: int) -> np.ndarray:
    """Windows ``[n_windows, 2]`` (first bin, end bin exclusive) covering ``n_bins`` bins.

    Windows start every ``stride_bins`` bins and hold ``window_bins`` bins; the last one ends at
    the last bin (it starts earlier than the stride would put it, so every window is full). A
    sequence no longer than one window is one window.
    """
    if n_bins < 1 or window_bins < 1 or stride_bins < 1:
        raise ValueError(f'need positive n_bins, window_bins, stride_bins, got {n_bins}, '
                         f'{window_bins}, {stride_bins}')
    if n_bins <= window_bins:
        return np.array([[0, n_bins]], dtype=np.int64)
    starts = list(range(0, n_bins - window_bins + 1, stride_bins))
    if starts[-1] + window_bins < n_bins:
        starts.append(n_bins - window_bins)
    starts = np.asarray(starts, dtype=np.int64)
    return np.stack([starts, starts + window_bins], axis=1)


def temporal_iou(a: Tuple[float, float], b: Tuple[float, float]) -> float:
    """Intersection over union of two intervals (seconds); 0 when both are empty."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def merge_moments(moments: Sequence[Moment], iou_threshold: float = 0.5,
                  topk: Optional[int] = None) -> List[Moment]:
    """Score-aware non-maximum suppression of moments from overlapping windows.

    Moments are visited best score first; one is kept unless it overlaps a kept moment by more
    than ``iou_threshold`` (temporal IoU), in which case the better-scored kept moment stands
    for both. Ties keep the earlier moment of ``moments``.

    Returns:
        list: At most ``topk`` moments, best score first.
    """
    order = sorted(range(len(moments)), key=lambda i: -moments[i].score)
    kept: List[Moment] = []
    for i in order:
        candidate = moments[i]
        span = (candidate.start, candidate.end)
        if all(temporal_iou(span, (k.start, k.end)) <= iou_threshold for k in kept):
            kept.append(candidate)
            if topk is not None and len(kept) == topk:
                break
    return kept


def stitch_curves(curves: Sequence[np.ndarray], starts: Sequence[float], clip_seconds: float,
                  duration: float) -> np.ndarray:
    """Per-window curves on one time grid: for display, not a distribution.

    Args:
        curves: ``[v_len]`` values of each window over its clips (``clip_seconds`` each).
        starts: Start (seconds) of each window.
        clip_seconds: Seconds per clip, the same in every window.
        duration: Video duration in seconds.

    Returns:
        np.ndarray: ``[ceil(duration / clip_seconds)]``: at each clip of the video, the value of
        the window whose centre is nearest.
    """
    n = max(1, int(math.ceil(duration / clip_seconds - 1e-6)))
    times = (np.arange(n) + 0.5) * clip_seconds
    centres = np.asarray([s + len(c) * clip_seconds / 2 for s, c in zip(starts, curves)])
    owner = np.abs(times[:, None] - centres[None]).argmin(1)
    out = np.zeros(n, dtype=np.float32)
    for t, w in enumerate(owner):
        index = int(np.clip((times[t] - starts[w]) // clip_seconds, 0, len(curves[w]) - 1))
        out[t] = curves[w][index]
    return out


class LongVideoGrounder:
    """Ground sentences in a long video through sliding windows (same interface as
    :class:`VideoGrounder`).

    Args:
        model: A grounder from :func:`mmemtm.apis.init_grounder`.
        features: Features ``[n_bins, dim]`` of the whole video at the training clip rate, bin
            ``i`` covering ``[i, i + 1] * duration / n_bins`` seconds.
        duration: Video duration in seconds.
        spec: The windows (seconds), rounded to whole bins.
        video_id: Name of the video.
        batch_size: Sentences per forward pass.
        progress: Show a progress bar over the windows.
    """

    def __init__(self, model, features: np.ndarray, duration: float, spec: WindowSpec,
                 video_id: str = 'video', batch_size: int = 64, progress: bool = True) -> None:
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2 or len(features) == 0:
            raise ValueError(f'features of {video_id} must be [n_bins, dim], got '
                             f'{features.shape}')
        if not duration > 0:
            raise ValueError(f'duration of {video_id} must be positive, got {duration}')
        self.model = model
        self.features = features
        self.duration = float(duration)
        self.video_id = video_id
        self.batch_size = batch_size
        self.progress = progress
        self.spec = spec
        self.bin_seconds = self.duration / len(features)
        window_bins = max(1, round(spec.window / self.bin_seconds))
        stride_bins = max(1, min(window_bins, round(spec.stride / self.bin_seconds)))
        self.windows = plan_windows(len(features), window_bins, stride_bins)

    def window_seconds(self) -> np.ndarray:
        """Windows ``[n_windows, 2]`` as (start, end) seconds."""
        return self.windows.astype(np.float64) * self.bin_seconds

    def _window_grounder(self, first: int, end: int) -> VideoGrounder:
        return VideoGrounder(self.model, self.features[first:end],
                             (end - first) * self.bin_seconds,
                             video_id=f'{self.video_id}@{first * self.bin_seconds:.1f}s',
                             batch_size=self.batch_size)

    def ground(self, sentences: Union[str, Sequence[str]]) -> List[GroundingResult]:
        """Merged moments (absolute seconds) of each sentence over all windows, best first.

        Each result's ``start_prob`` / ``end_prob`` are the windows' distributions stitched onto
        one time grid (:func:`stitch_curves`, ``clip_seconds`` per value).
        """
        sentences = [sentences] if isinstance(sentences, str) else list(sentences)
        found: Dict[int, List[Moment]] = {i: [] for i in range(len(sentences))}
        curves: Dict[str, List[List[np.ndarray]]] = dict(start=[], end=[])
        starts, clip_seconds = [], 0.0
        bar = ProgressBar(len(self.windows), file=sys.stdout) if self.progress else None
        for first, end in self.windows:
            offset = float(first) * self.bin_seconds
            results = self._window_grounder(int(first), int(end)).ground(sentences)
            for i, result in enumerate(results):
                found[i] += [replace(m, start=m.start + offset, end=m.end + offset)
                             for m in result.moments]
            curves['start'].append([r.start_prob for r in results])
            curves['end'].append([r.end_prob for r in results])
            starts.append(offset)
            clip_seconds = results[0].clip_seconds
            if bar is not None:
                bar.update()
        return [GroundingResult(
            sentence=sentence,
            moments=merge_moments(found[i], self.spec.iou_threshold, self.spec.topk),
            start_prob=self._stitch(curves['start'], i, starts, clip_seconds),
            end_prob=self._stitch(curves['end'], i, starts, clip_seconds),
            clip_seconds=clip_seconds) for i, sentence in enumerate(sentences)]

    def _stitch(self, per_window: List[List[np.ndarray]], i: int, starts: List[float],
                clip_seconds: float) -> np.ndarray:
        windows = [w[i] for w in per_window]
        if any(len(c) == 0 for c in windows):
            return np.zeros(0, dtype=np.float32)
        return stitch_curves(windows, starts, clip_seconds, self.duration)


#: ``long_video`` modes of :func:`grounder_for_features` and :func:`grounder_for_video`.
LONG_VIDEO_MODES = ('auto', 'always', 'never')


def resolve_window_spec(cfg: Config, long_video: str = 'auto',
                        spec: Optional[WindowSpec] = None) -> Optional[WindowSpec]:
    """The windows to use: None for ``'never'``; ``spec``, else the config's
    (:func:`window_spec_from_config`). In ``'auto'`` mode a config that cannot tell the
    training duration gives None with a warning (no windows)."""
    if long_video not in LONG_VIDEO_MODES:
        raise ValueError(f'long_video must be one of {LONG_VIDEO_MODES}, got {long_video!r}')
    if long_video == 'never':
        return None
    if spec is not None:
        return spec
    try:
        return window_spec_from_config(cfg)
    except FileNotFoundError as exc:
        if long_video == 'always':
            raise
        print_log(f'no sliding windows for long videos: {exc}', logger='current',
                  level=logging.WARNING)
        return None


def _wants_windows(spec: Optional[WindowSpec], long_video: str, duration: float) -> bool:
    return spec is not None and (long_video == 'always' or spec.applies_to(duration))


def grounder_for_features(model, features: np.ndarray, duration: float,
                          long_video: str = 'auto', spec: Optional[WindowSpec] = None,
                          **kwargs) -> Union[VideoGrounder, LongVideoGrounder]:
    """A :class:`LongVideoGrounder` for a video longer than ``spec.min_ratio`` windows (or with
    ``long_video='always'``), else a :class:`VideoGrounder`.

    Features too coarse for windows (fewer than 2 rows per window, e.g. a long video's features
    squeezed into 64 bins) are grounded whole, with a warning: extract them at the training
    clip rate instead.
    """
    spec = resolve_window_spec(model.cfg, long_video, spec)
    progress = kwargs.pop('progress', True)
    if _wants_windows(spec, long_video, duration):
        rows_per_window = spec.window * len(features) / duration
        if rows_per_window >= 2:
            return LongVideoGrounder(model, features, duration, spec, progress=progress,
                                     **kwargs)
        print_log(f'features of {kwargs.get("video_id", "the video")} have one row per '
                  f'{duration / len(features):.1f} s, too coarse for {spec.window:.1f}-s '
                  'windows: grounding the whole video at once; extract features at the '
                  'training clip rate for long videos', logger='current', level=logging.WARNING)
    return VideoGrounder(model, features, duration, **kwargs)


def extract_at_window_rate(extractor, video: str, spec: WindowSpec) -> np.ndarray:
    """Features of ``video`` at the training clip rate: CLIP frame features with
    ``recipe.num_bins`` bins per ``spec.window`` seconds; other extractors (I3D: one row per
    second whatever the video's length) as they are."""
    from .clip_frame_features import CLIPFrameFeatureExtractor
    if isinstance(extractor, CLIPFrameFeatureExtractor):
        return extractor.extract(video, seconds_per_bin=spec.window / extractor.recipe.num_bins)
    return extractor.extract(video)


def grounder_for_video(model, video: str, extractor=None, long_video: str = 'auto',
                       spec: Optional[WindowSpec] = None,
                       extractor_options: Optional[dict] = None,
                       **kwargs) -> Union[VideoGrounder, LongVideoGrounder]:
    """Extract ``video``'s features with the extractor of the model's feature backbone (or
    ``extractor``, refused before any decoding if it does not fit:
    :func:`mmemtm.apis.feature_backbones.check_extractor_fits`) and wrap them as
    :func:`grounder_for_features` does; long videos are extracted at the training clip rate."""
    from .feature_backbones import extractor_for_model
    extractor = extractor_for_model(model.cfg, extractor, **(extractor_options or {}))
    kwargs.setdefault('video_id', osp.splitext(osp.basename(video))[0])
    duration = extractor.open(video).duration
    spec = resolve_window_spec(model.cfg, long_video, spec)
    progress = kwargs.pop('progress', True)
    if _wants_windows(spec, long_video, duration):
        features = extract_at_window_rate(extractor, video, spec)
        return grounder_for_features(model, features, duration, 'always', spec,
                                     progress=progress, **kwargs)
    return VideoGrounder(model, extractor.extract(video), duration, **kwargs)
