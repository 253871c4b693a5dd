"""Figures of grounding results: moments on a time axis, boundary distributions, teacher curves.

Every figure is drawn with matplotlib's non-interactive backend and saved atomically.
"""
import os.path as osp
from typing import Optional, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mmemtm.utils import atomic_write  # noqa: E402

PRED_COLOR = '#d62728'
GT_COLOR = '#2ca02c'
START_COLOR = '#1f77b4'
END_COLOR = '#ff7f0e'

Span = Tuple[float, float]


def save_figure(fig: plt.Figure, path: str, dpi: int = 120) -> None:
    """Save ``fig`` to ``path`` (format from the extension) atomically and close it."""
    fmt = osp.splitext(path)[1].lstrip('.') or 'png'
    with atomic_write(path, 'wb') as f:
        fig.savefig(f, format=fmt, dpi=dpi, bbox_inches='tight')
    plt.close(fig)


def clip_centres(num_clips: int, clip_seconds: float) -> np.ndarray:
    """Centre times (seconds) of ``num_clips`` clips of ``clip_seconds`` each."""
    return (np.arange(num_clips) + 0.5) * clip_seconds


def draw_frame_strip(ax: plt.Axes, duration: float, frames: Sequence[np.ndarray],
                     frame_times: Sequence[float]) -> None:
    """Frames side by side along a ``[0, duration]`` second axis, each centred on its time."""
    ax.set_xlim(0, duration)
    ax.set_ylim(0, 1)
    ax.axis('off')
    width = duration / max(len(frames), 1)
    for frame, t in zip(frames, frame_times):
        ax.imshow(frame, extent=(t - width / 2, t + width / 2, 0, 1), aspect='auto')
    ax.set_xlim(0, duration)


def draw_moments(ax: plt.Axes, duration: float, pred: Optional[Span] = None,
                 gt: Optional[Span] = None) -> None:
    """Predicted and true moments as bars on a ``[0, duration]`` second axis."""
    ax.set_xlim(0, duration)
    ax.set_ylim(0, 2)
    ax.set_yticks([0.5, 1.5], ['truth', 'predicted'])
    if gt is not None:
        ax.barh(0.5, gt[1] - gt[0], left=gt[0], height=0.7, color=GT_COLOR)
        ax.text(gt[0], 0.5, f' {gt[0]:.1f}-{gt[1]:.1f} s', va='center', fontsize=8)
    if pred is not None:
        ax.barh(1.5, pred[1] - pred[0], left=pred[0], height=0.7, color=PRED_COLOR)
        ax.text(pred[0], 1.5, f' {pred[0]:.1f}-{pred[1]:.1f} s', va='center', fontsize=8)


def draw_boundaries(ax: plt.Axes, start: np.ndarray, end: np.ndarray, clip_seconds: float,
                    label: str = '') -> None:
    """Start and end distributions over clips, on the second axis."""
    times = clip_centres(len(start), clip_seconds)
    ax.plot(times, start, color=START_COLOR, label=f'{label}start'.strip())
    ax.plot(times, end, color=END_COLOR, label=f'{label}end'.strip())
    ax.set_ylabel('probability')
    ax.legend(loc='upper right', fontsize=8)


def video_grounding_figure(sentence: str, duration: float, pred: Span,
                           start_prob: np.ndarray, end_prob: np.ndarray, clip_seconds: float,
                           frames: Sequence[np.ndarray] = (), frame_times: Sequence[float] = (),
                           gt: Optional[Span] = None, note: str = '') -> plt.Figure:
    """A strip of frames along the time axis, the predicted (and true) moment, and the model's
    start/end distributions.

    Args:
        sentence: The query.
        duration: Video duration in seconds.
        pred: Predicted moment in seconds.
        start_prob: ``[v_len]`` start distribution over clips.
        end_prob: ``[v_len]`` end distribution over clips.
        clip_seconds: Seconds per clip.
        frames: RGB frames ``[H, W, 3]`` shown above the axis.
        frame_times: Time (seconds) of each frame.
        gt: True moment in seconds, if known.
        note: Extra line under the title (e.g. a warning about the model).
    """
    rows = 3 if len(frames) else 2
    fig, axes = plt.subplots(rows, 1, figsize=(10, 1.6 * rows + 1.2), sharex=False,
                             gridspec_kw=dict(height_ratios=[1.4] * (rows - 2) + [0.8, 1.4]))
    axes = np.atleast_1d(axes)
    if len(frames):
        draw_frame_strip(axes[0], duration, frames, frame_times)
    draw_moments(axes[-2], duration, pred, gt)
    draw_boundaries(axes[-1], start_prob, end_prob, clip_seconds)
    axes[-1].set_xlim(0, duration)
    axes[-1].set_xlabel('time (s)')
    fig.suptitle(f'"{sentence}"' + (f'\n{note}' if note else ''), fontsize=10)
    return fig


def distillation_figure(sentence: str, duration: float, clip_seconds: float,
                        teacher_names: Sequence[str], teacher_curves: np.ndarray,
                        weights: np.ndarray, mixture: np.ndarray, student: np.ndarray,
                        pred: Span, gt: Span) -> plt.Figure:
    """What EMTM distils for one query.

    Args:
        sentence: The query.
        duration: Video duration in seconds.
        clip_seconds: Seconds per clip.
        teacher_names: ``T`` teacher names.
        teacher_curves: ``[T, 2, v_len]`` teachers' start/end curves on the student's grid.
        weights: ``[T, 2]`` KAU weights (start, end) of each teacher.
        mixture: ``[2, v_len]`` integrated start/end soft labels (as distributions).
        student: ``[2, v_len]`` student's start/end distributions.
        pred: Student's predicted moment in seconds.
        gt: True moment in seconds.
    """
    fig, axes = plt.subplots(4, 1, figsize=(10, 9), sharex=True,
                             gridspec_kw=dict(height_ratios=[0.7, 1.5, 1.5, 1.5]))
    draw_moments(axes[0], duration, pred, gt)
    times = clip_centres(teacher_curves.shape[-1], clip_seconds)
    for row, (ax, which) in enumerate(zip(axes[1:3], ('start', 'end'))):
        for name, curves, weight in zip(teacher_names, teacher_curves, weights):
            peak = max(float(curves[row].max()), 1e-12)
            ax.plot(times, curves[row] / peak, alpha=0.7,
                    label=f'{name} (KAU weight {weight[row]:.2f})')
        ax.plot(times, mixture[row] / max(float(mixture[row].max()), 1e-12), color='black',
                linewidth=2, label='KAU mixture')
        ax.axvline(gt[row], color=GT_COLOR, linestyle='--', label=f'true {which}')
        ax.set_ylabel(f'{which} (peak = 1)')
        ax.legend(loc='upper right', fontsize=7)
    draw_boundaries(axes[3], student[0], student[1], clip_seconds, label='student ')
    for t, color in zip(gt, (START_COLOR, END_COLOR)):
        axes[3].axvline(t, color=color, linestyle='--')
    axes[3].set_xlabel('time (s)')
    axes[3].set_xlim(0, duration)
    fig.suptitle(f'"{sentence}": teachers, KAU mixture and student', fontsize=10)
    return fig
