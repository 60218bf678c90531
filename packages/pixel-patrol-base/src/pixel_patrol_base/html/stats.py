"""Two-sample statistics for comparing groups: Mann–Whitney U, Bonferroni, Cliff's delta.

Pure numpy. The p-value uses the normal approximation with tie correction and continuity
correction, which is what large samples need; for samples under 8 values the page marks the
comparison as indicative only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SMALL_SAMPLE = 8


@dataclass(frozen=True, slots=True)
class Comparison:
    """Result of comparing sample ``a`` with sample ``b``."""

    u: float
    p: float
    delta: float
    """Cliff's delta in [-1, 1]: P(a > b) - P(a < b)."""
    n_a: int
    n_b: int


def rank_average(values: np.ndarray) -> tuple[np.ndarray, float]:
    """1-based ranks with ties averaged, and the tie term sum(t^3 - t)."""
    order = np.argsort(values, kind="mergesort")
    s = values[order]
    edge = np.flatnonzero(np.diff(s) != 0) + 1
    starts = np.r_[0, edge]
    ends = np.r_[edge, len(s)]
    avg = (starts + ends + 1) / 2.0
    ranks = np.empty(len(s))
    ranks[order] = np.repeat(avg, ends - starts)
    t = (ends - starts).astype(np.float64)
    return ranks, float(np.sum(t**3 - t))


def mann_whitney(a: np.ndarray, b: np.ndarray) -> Comparison:
    """Two-sided Mann–Whitney U test of ``a`` against ``b`` (NaN values dropped)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        return Comparison(float("nan"), float("nan"), float("nan"), n1, n2)
    ranks, ties = rank_average(np.concatenate([a, b]))
    u1 = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2.0)
    n = n1 + n2
    mu = n1 * n2 / 2.0
    var = n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1))) if n > 1 else 0.0
    if var <= 0:
        p = 1.0
    else:
        z = (abs(u1 - mu) - 0.5) / math.sqrt(var)
        p = min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2.0)))
    delta = 2.0 * u1 / (n1 * n2) - 1.0
    return Comparison(u1, p, delta, n1, n2)


def bonferroni(p: float, m: int) -> float:
    """Bonferroni-adjusted p-value for ``m`` comparisons."""
    return min(1.0, p * max(m, 1))


def effect_label(delta: float) -> str:
    """Romano et al. (2006) thresholds for |Cliff's delta|: negligible, small, medium, large."""
    d = abs(delta)
    if d < 0.147:
        return "negligible"
    if d < 0.33:
        return "small"
    if d < 0.474:
        return "medium"
    return "large"
