"""Paired comparisons of per-query results over seeds: bootstrap confidence intervals."""
from typing import List, Sequence, Tuple

import numpy as np


def _paired(row: np.ndarray, base: np.ndarray) -> np.ndarray:
    row, base = np.asarray(row, np.float64), np.asarray(base, np.float64)
    if row.shape != base.shape or row.ndim != 2 or row.size == 0:
        raise ValueError(f'paired results must both be [seeds, queries], got {row.shape} and '
                         f'{base.shape}')
    return row - base


def paired_bootstrap(row: np.ndarray, base: np.ndarray, num: int = 10000,
                     seed: int = 0) -> Tuple[float, float, float]:
    """Mean difference (points) and 95% CI of ``row - base`` over resampled queries only.

    The seeds' mean difference of each query is resampled, so the interval ignores seed
    variation (see :func:`two_level_bootstrap`).

    Args:
        row: ``[S, Q]`` per-seed, per-query hits (0/1) or IoUs of a row.
        base: ``[S, Q]`` the same of the baseline (same seeds and queries).
        num: Bootstrap resamples.
        seed: Seed of the resampling.

    Returns:
        tuple: ``(mean, low, high)`` in points (x100).
    """
    diff = _paired(row, base).mean(0)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (num, len(diff)))].mean(1)
    return (100 * float(diff.mean()), 100 * float(np.percentile(means, 2.5)),
            100 * float(np.percentile(means, 97.5)))


def two_level_bootstrap(row: np.ndarray, base: np.ndarray, num: int = 10000,
                        seed: int = 0) -> Tuple[float, float, float]:
    """Mean difference (points) and 95% CI of ``row - base``, resampling seeds, then queries.

    Each resample draws ``S`` seeds with replacement and ``Q`` queries with replacement and
    averages the paired differences of those seeds on those queries, so the interval covers both
    the training-seed variation and the choice of test queries. With one seed it is the query
    bootstrap.

    Args:
        row: ``[S, Q]`` per-seed, per-query hits (0/1) or IoUs of a row (seed ``s`` of the row
            paired with seed ``s`` of the baseline: same initialisation).
        base: ``[S, Q]`` the same of the baseline.
        num: Bootstrap resamples.
        seed: Seed of the resampling.

    Returns:
        tuple: ``(mean, low, high)`` in points (x100).
    """
    diff = _paired(row, base)
    seeds, queries = diff.shape
    rng = np.random.default_rng(seed)
    means = np.empty(num)
    for i in range(num):
        picked = diff[rng.integers(0, seeds, seeds)]
        means[i] = picked[:, rng.integers(0, queries, queries)].mean()
    return (100 * float(diff.mean()), 100 * float(np.percentile(means, 2.5)),
            100 * float(np.percentile(means, 97.5)))


def per_seed_deltas(row: np.ndarray, base: np.ndarray) -> List[float]:
    """Mean difference (points) of each seed's paired runs."""
    return [100 * float(d) for d in _paired(row, base).mean(1)]


def cluster_draws(groups: Sequence, num: int = 1000, seed: int = 0) -> List[np.ndarray]:
    """``num`` bootstrap resamples of items drawn by cluster: each draws as many clusters as
    there are, with replacement, and takes all their items (indices into ``groups``, the
    cluster of each item, e.g. the video of each test sample)."""
    names, cluster = np.unique(np.asarray(groups), return_inverse=True)
    members = [np.flatnonzero(cluster == c) for c in range(len(names))]
    rng = np.random.default_rng(seed)
    return [np.concatenate([members[c] for c in rng.integers(0, len(members), len(members))])
            for _ in range(num)]


def two_level_from_draws(row: np.ndarray, base: np.ndarray, point: float,
                         seed: int = 0) -> Tuple[float, float, float]:
    """Two-level 95% CI of a metric that is not a mean over items (e.g. mAP): ``row`` and
    ``base`` ``[S, B]`` hold the metric of each seed's run on each of ``B`` item resamples
    (:func:`cluster_draws`, the same resamples for both); each resample also draws ``S`` seeds
    with replacement and averages their paired differences.

    Args:
        row: ``[S, B]`` metric (points) of a row's runs on the resamples.
        base: ``[S, B]`` the same of the baseline (seed ``s`` paired with seed ``s``).
        point: The difference on all items, averaged over seeds (points).
        seed: Seed of the seed draws.

    Returns:
        tuple: ``(point, low, high)`` in points.
    """
    diff = _paired(row, base)
    seeds, draws = diff.shape
    picked = np.random.default_rng(seed).integers(0, seeds, (draws, seeds))
    means = diff[picked, np.arange(draws)[:, None]].mean(1)
    return float(point), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))
