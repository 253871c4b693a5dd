"""Ranked moments of two computations that agree in exact arithmetic but round differently
(another backend, other kernels, another batch shape), compared so that rounding cannot decide
the outcome (tests import it as ``from rankings import assert_same_ranking``)."""
from typing import Optional, Sequence

import pytest


def _rows(values) -> list:
    values = values.tolist() if hasattr(values, 'tolist') else list(values)
    return [tuple(v) if isinstance(v, (list, tuple)) else v for v in values]


def assert_same_ranking(moments: Sequence, scores: Sequence, other_moments: Sequence,
                        other_scores: Sequence, rel: float, abs: float = 0.0) -> Optional[int]:
    """The other computation ranks the same moments with the same scores (within ``rel`` /
    ``abs``), down to the first rank where the moments differ, if any, where the two scores must
    tie within the same tolerance.

    Top-k decoding and greedy NMS keep, rank after rank, the best candidate left. Two
    candidates whose scores are closer than the computations' difference may come in either
    order: above that rank both lists agree, at it each keeps a best remaining candidate (so
    their scores tie within the difference), below it the candidates left may differ. A
    decoding or plumbing fault shows as a different moment whose score does not tie.

    Args:
        moments: Reference moments or spans, best first (``[K, 2]`` tensor or sequence).
        scores: Their scores ``[K]``.
        other_moments: The other computation's moments.
        other_scores: Its scores.
        rel: Relative tolerance of two scores of one moment (and of a tie).
        abs: Absolute tolerance of the same.

    Returns:
        The first rank whose moments differ (None: the lists are equal).
    """
    moments, other_moments = _rows(moments), _rows(other_moments)
    scores, other_scores = _rows(scores), _rows(other_scores)
    assert len(moments) == len(other_moments) == len(scores) == len(other_scores)
    for rank, (moment, other, score, other_score) in enumerate(
            zip(moments, other_moments, scores, other_scores)):
        assert other_score == pytest.approx(score, rel=rel, abs=abs), (
            f'rank {rank}: {other} scored {other_score}, {moment} {score}')
        if moment != other:
            return rank
    return None
