"""Confidence intervals and paired tests for per-case scores (numpy, fixed seeds).

>>> lo, hi = bootstrap_ci([7.0, 8.0, 6.5, 9.0, 7.5])
>>> lo <= 7.6 <= hi
True
>>> mcnemar_exact([1, 1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0]).p_value
0.03125
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

RESAMPLES = 1000
SEED = 0
_CHUNK_CELLS = 2_000_000  # resample in chunks so 10,000 cases x 1000 resamples stays small


@dataclass(frozen=True)
class PairedTest:
    """Result of comparing ``b`` with ``a`` (delta = mean(b) - mean(a))."""

    mean_delta: float
    p_value: float
    n: int
    method: str


def _values(x: Sequence[float]) -> np.ndarray:
    arr = np.asarray(x, dtype=float).ravel()
    if not np.all(np.isfinite(arr)):
        raise ValueError("scores must be finite numbers")
    return arr


def resample_indices(n: int, *, resamples: int = RESAMPLES, seed: int = SEED):
    """The bootstrap's ``resamples`` rows of ``n`` indices drawn with replacement, in chunks
    that keep memory small: yields ``(start, stop, indices)`` (one random stream per seed)."""
    rng = np.random.default_rng(seed)
    chunk = max(1, _CHUNK_CELLS // max(n, 1))
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        yield start, stop, rng.integers(0, n, size=(stop - start, n))


def bootstrap_means(values: Sequence[float], *, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """Means of ``resamples`` bootstrap resamples (with replacement) of ``values``."""
    arr = _values(values)
    means = np.empty(resamples)
    for start, stop, idx in resample_indices(arr.size, resamples=resamples, seed=seed):
        means[start:stop] = arr[idx].mean(axis=1)
    return means


def bootstrap_ci(values: Sequence[float], *, confidence: float = 0.95, resamples: int = RESAMPLES,
                 seed: int = SEED) -> tuple[float, float] | None:
    """Percentile bootstrap confidence interval of the mean; ``None`` for no values."""
    arr = _values(values)
    if arr.size == 0:
        return None
    if np.all(arr == arr[0]):
        return float(arr[0]), float(arr[0])
    means = bootstrap_means(arr, resamples=resamples, seed=seed)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def two_sided_p(deltas: np.ndarray) -> float:
    """Share of resampled mean deltas on the far side of zero, doubled (capped at 1)."""
    below, above = np.mean(deltas <= 0), np.mean(deltas >= 0)
    return float(min(1.0, 2.0 * min(below, above)))


def paired_bootstrap(a: Sequence[float], b: Sequence[float], *, resamples: int = RESAMPLES,
                     seed: int = SEED) -> PairedTest:
    """Paired bootstrap test of mean(b) - mean(a) over the same cases."""
    a, b = _values(a), _values(b)
    if a.size != b.size:
        raise ValueError(f"paired lists differ in length: {a.size} vs {b.size}")
    if a.size == 0:
        return PairedTest(0.0, 1.0, 0, "paired_bootstrap")
    diff = b - a
    if np.all(diff == 0):
        return PairedTest(0.0, 1.0, int(a.size), "paired_bootstrap")
    deltas = bootstrap_means(diff, resamples=resamples, seed=seed)
    return PairedTest(float(diff.mean()), two_sided_p(deltas), int(a.size), "paired_bootstrap")


def unpaired_bootstrap(a: Sequence[float], b: Sequence[float], *, resamples: int = RESAMPLES,
                       seed: int = SEED) -> PairedTest:
    """Bootstrap test of mean(b) - mean(a) for two independent samples."""
    a, b = _values(a), _values(b)
    if a.size == 0 or b.size == 0:
        return PairedTest(0.0, 1.0, 0, "unpaired_bootstrap")
    delta = float(b.mean() - a.mean())
    # Each list resampled on its own: the spread of the difference of their means.
    deltas = bootstrap_means(b, resamples=resamples, seed=seed) - bootstrap_means(a, resamples=resamples, seed=seed + 1)
    p = 1.0 if delta == 0 and np.all(deltas == 0) else two_sided_p(deltas)
    return PairedTest(delta, p, int(min(a.size, b.size)), "unpaired_bootstrap")


def mcnemar_exact(a: Sequence[float], b: Sequence[float]) -> PairedTest:
    """Exact McNemar test of paired pass/fail outcomes (1/0) of ``b`` against ``a``.

    Only the discordant pairs count (passed before and fails now, or the reverse); under
    no change each is equally likely either way, so their split is Binomial(n, 1/2).
    ``mean_delta`` is the change of the pass rate over all pairs.
    """
    a, b = _values(a), _values(b)
    if a.size != b.size:
        raise ValueError(f"paired lists differ in length: {a.size} vs {b.size}")
    diff = b - a
    ups, downs = int(np.sum(diff > 0)), int(np.sum(diff < 0))
    n = ups + downs
    mean_delta = float(diff.mean()) if diff.size else 0.0
    if n == 0:
        return PairedTest(mean_delta, 1.0, int(a.size), "mcnemar_exact")
    tail = sum(math.comb(n, i) for i in range(min(ups, downs) + 1)) / 2.0**n
    return PairedTest(mean_delta, float(min(1.0, 2.0 * tail)), int(a.size), "mcnemar_exact")


def summarize(values: Sequence[float], *, resamples: int = RESAMPLES, seed: int = SEED) -> dict:
    """``{"mean", "ci95": [lo, hi], "n"}`` as stored in the results aggregates."""
    arr = _values(values)
    if arr.size == 0:
        return {"mean": None, "ci95": None, "n": 0}
    lo, hi = bootstrap_ci(arr, resamples=resamples, seed=seed)
    return {"mean": float(arr.mean()), "ci95": [lo, hi], "n": int(arr.size)}
