"""The moments of several sentences of one video on a shared time axis, under a strip of frames,
and figures as RGB arrays (for image widgets)."""
from typing import Sequence, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .grounding_figures import PRED_COLOR, draw_boundaries, draw_frame_strip  # noqa: E402

Span = Tuple[float, float]


def figure_to_array(fig: plt.Figure, dpi: int = 100) -> np.ndarray:
    """The figure rendered to a uint8 RGB array ``[H, W, 3]``; the figure is closed."""
    fig.set_dpi(dpi)
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return image


def draw_sentence_moments(ax: plt.Axes, duration: float, sentences: Sequence[str],
                          moments: Sequence[Sequence[Span]]) -> None:
    """One row per sentence (the first on top): its ranked moments as bars, the best one opaque
    and labelled with its seconds, the others fainter the lower they rank."""
    rows = len(sentences)
    ax.set_xlim(0, duration)
    ax.set_ylim(-0.5, rows - 0.5)
    ax.set_yticks(range(rows), [_short(s) for s in sentences][::-1], fontsize=8)
    for row, spans in enumerate(moments):
        y = rows - 1 - row
        for rank, (start, end) in reversed(list(enumerate(spans))):
            alpha = 1.0 if rank == 0 else max(0.15, 0.45 - 0.1 * rank)
            ax.barh(y, end - start, left=start, height=0.6, color=PRED_COLOR, alpha=alpha)
        if spans:
            start, end = spans[0]
            ax.text(start, y, f' {start:.1f}-{end:.1f} s', va='center', fontsize=8)
    ax.set_xlabel('time (s)')


def moments_timeline_figure(duration: float, sentences: Sequence[str],
                            moments: Sequence[Sequence[Span]],
                            frames: Sequence[np.ndarray] = (),
                            frame_times: Sequence[float] = (), note: str = '') -> plt.Figure:
    """A strip of frames above the ranked moments of each sentence, on one time axis.

    Args:
        duration: Video duration in seconds.
        sentences: The queries.
        moments: Per sentence, its moments ``(start, end)`` in seconds, best first.
        frames: RGB frames ``[H, W, 3]`` shown above the axis.
        frame_times: Time (seconds) of each frame.
        note: A line under the title (e.g. a warning about the model).
    """
    strip = 1 if len(frames) else 0
    heights = [1.4] * strip + [0.5 + 0.45 * len(sentences)]
    fig, axes = plt.subplots(len(heights), 1, figsize=(10, sum(heights) + 0.9),
                             gridspec_kw=dict(height_ratios=heights))
    axes = np.atleast_1d(axes)
    if strip:
        draw_frame_strip(axes[0], duration, frames, frame_times)
    draw_sentence_moments(axes[-1], duration, sentences, moments)
    title = 'moments of each sentence (best one labelled)'
    fig.suptitle(title + (f'\n{note}' if note else ''), fontsize=10)
    _tight_with_top_margin(fig)
    return fig


def boundary_distributions_figure(duration: float, sentences: Sequence[str],
                                  start_probs: Sequence[np.ndarray],
                                  end_probs: Sequence[np.ndarray],
                                  clip_seconds: Sequence[float],
                                  best: Sequence[Span]) -> plt.Figure:
    """Each sentence's start/end distributions over the video, its best moment shaded; one
    panel per sentence on a shared time axis.

    Args:
        duration: Video duration in seconds.
        sentences: The queries.
        start_probs: Per sentence, its ``[v_len]`` start distribution over clips.
        end_probs: Per sentence, its ``[v_len]`` end distribution over clips.
        clip_seconds: Per sentence, seconds per clip.
        best: Per sentence, its best moment ``(start, end)`` in seconds.
    """
    fig, axes = plt.subplots(len(sentences), 1, figsize=(10, 1.9 * len(sentences) + 0.6),
                             sharex=True, squeeze=False)
    for ax, sentence, start, end, seconds, span in zip(axes[:, 0], sentences, start_probs,
                                                       end_probs, clip_seconds, best):
        ax.axvspan(*span, color=PRED_COLOR, alpha=0.15, label='best moment')
        draw_boundaries(ax, start, end, seconds)
        ax.set_title(f'"{_short(sentence, 80)}"', fontsize=9)
        ax.set_xlim(0, duration)
    axes[-1, 0].set_xlabel('time (s)')
    _tight_with_top_margin(fig)
    return fig


def moment_frames_figure(sentences: Sequence[str], frames: Sequence[Sequence[np.ndarray]],
                         times: Sequence[Sequence[float]]) -> plt.Figure:
    """Frames inside each sentence's best moment: one row per sentence, each frame titled with
    its time.

    Args:
        sentences: The queries.
        frames: Per sentence, its RGB frames ``[H, W, 3]``.
        times: Per sentence, the time (seconds) of each of its frames.
    """
    columns = max(len(f) for f in frames)
    fig = plt.figure(figsize=(10, 2.4 * len(sentences) + 0.3), layout='constrained')
    fig.get_layout_engine().set(rect=(0, 0, 1, 1 - 0.3 / fig.get_figheight()))
    for panel, sentence, row_frames, row_times in zip(
            np.atleast_1d(fig.subfigures(len(sentences), 1)), sentences, frames, times):
        panel.suptitle(f'"{_short(sentence, 90)}"', fontsize=9)
        for ax, frame, t in zip(panel.subplots(1, columns, squeeze=False)[0], row_frames,
                                row_times):
            ax.imshow(frame)
            ax.set_title(f'{t:.1f} s', fontsize=8)
        for ax in panel.axes:
            ax.axis('off')
    return fig


def _tight_with_top_margin(fig: plt.Figure, inches: float = 0.3) -> None:
    """Tight layout leaving ``inches`` free at the top (where image widgets put their
    label)."""
    fig.tight_layout(rect=(0, 0, 1, 1 - inches / fig.get_figheight()))


def _short(sentence: str, length: int = 40) -> str:
    return sentence if len(sentence) <= length else sentence[:length - 1] + '…'
