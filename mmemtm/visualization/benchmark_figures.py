"""Figures of benchmark tables."""
import textwrap
from typing import Dict, List

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def accuracy_bars(rows: List[dict], metric: str = 'R1@0.5', title: str = '') -> plt.Figure:
    """Horizontal bars of ``metric`` per row: mean over seeds with the sd as an error bar, and the
    paired 95% CI of the difference to the baseline written next to each bar.

    Args:
        rows: Rows of :func:`mmemtm.benchmarks.real_grounding.summary_rows` (``row``,
            ``metric`` as ``(mean, sd)``, optional ``ci`` as ``(mean, low, high)`` points).
        metric: The metric to draw (percent).
        title: Figure title.
    """
    names = [r['row'] for r in rows][::-1]
    # the plot keeps ~6 inches beside the row names (~0.075 inch per character at this size)
    width = 6 + 0.075 * max(map(len, names))
    fig, ax = plt.subplots(figsize=(width, 0.45 * len(rows) + 1.5))
    means = [r[metric][0] for r in rows][::-1]
    sds = [r[metric][1] for r in rows][::-1]
    ax.barh(names, means, xerr=sds, color='#4c72b0', alpha=0.8, capsize=3)
    for y, row in enumerate(rows[::-1]):
        if 'ci' in row:
            mean, low, high = row['ci']
            ax.text(row[metric][0] + row[metric][1] + 0.5, y,
                    f'{mean:+.1f} [{low:+.1f}, {high:+.1f}]', va='center', fontsize=8)
    ax.set_xlabel(f'{metric} (%), mean ± sd over seeds; text: paired 95% CI vs the baseline')
    ax.set_xlim(0, 1.5 * max(m + s for m, s in zip(means, sds)) + 5)  # room for the CI text
    fig.suptitle(textwrap.fill(title, int(width * 11)), fontsize=9)  # centred on the figure
    fig.tight_layout()
    return fig


def validation_curves(curves: Dict[str, List[List[float]]], metric: str = 'R1@0.5',
                      title: str = '') -> plt.Figure:
    """Val ``metric`` after each epoch, one line per run (one colour per row): shows whether
    training ran long enough for the validation score to stop rising.

    Args:
        curves: ``{row: [per-epoch val scores of each run]}`` (percent).
        metric: Name of the metric, for the axis label.
        title: Figure title.
    """
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colours = plt.rcParams['axes.prop_cycle'].by_key()['color']
    for i, (row, runs) in enumerate(curves.items()):
        for j, run in enumerate(runs):
            ax.plot(range(1, len(run) + 1), run, color=colours[i % len(colours)], alpha=0.7,
                    label=row if j == 0 else None)
    ax.set_xlabel('epoch')
    ax.set_ylabel(f'val {metric} (%)')
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
