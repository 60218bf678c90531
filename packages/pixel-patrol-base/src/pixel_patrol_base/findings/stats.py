"""Robust statistics the rules use, vectorised over groups (numpy only).

* :func:`grouped_modz`: Iglewicz & Hoaglin's modified z-score ``0.6745 (x − median) / MAD``
  within each group. When the MAD is 0 (more than half the values equal), the mean absolute
  deviation scaled by 1.2533 (= √(π/2), the normal-consistency factor) takes its place, so a
  single deviating value among identical ones is still measured; when both are 0 every value
  equals the median and the score is 0.
* :func:`rank_sum_tests`: Mann–Whitney U of each group against the rest of the values, with the
  tie-corrected normal approximation and continuity correction (two-sided), and Cliff's δ
  (= 2U / (n1·n2) − 1), from one ranking of all values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MODZ_K = 0.6745
MEANAD_K = 1.253314


def dense_ids(*columns: np.ndarray) -> tuple[np.ndarray, int]:
    """Group id (0 … n-1, in sorted key order) of each row of the given integer columns.

    The columns are packed into one int64 key when their ranges allow (always, for report
    columns), which sorts several times faster than ``np.unique(axis=0)`` on a 2-D array.
    """
    n = len(columns[0]) if columns else 0
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for col in columns:
        c = np.asarray(col, dtype=np.int64)
        lo, hi = int(c.min()), int(c.max())
        width = hi - lo + 1
        if span * width >= 2**62:
            _, inv = np.unique(np.column_stack([np.asarray(x, dtype=np.int64) for x in columns]), axis=0, return_inverse=True)
            inv = inv.reshape(-1)
            return inv, int(inv.max()) + 1
        key = key * width + (c - lo)
        span *= width
    _, inv = np.unique(key, return_inverse=True)
    inv = inv.reshape(-1)
    return inv, int(inv.max()) + 1


def grouped_median(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of ``values`` per group id (NaN for empty groups); ``values`` must be finite."""
    order = np.argsort(values)
    g = groups[order]
    # a stable sort of small integers is a radix sort: group ids fit 16 bits in practice
    g = g.astype(np.int16) if n_groups < 2**15 else g
    order = order[np.argsort(g, kind="stable")]
    v, g = values[order], groups[order]
    counts = np.bincount(g, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = np.full(n_groups, np.nan)
    has = counts > 0
    lo = starts + (counts - 1) // 2
    hi = starts + counts // 2
    out[has] = 0.5 * (v[lo[has]] + v[hi[has]])
    return out


def grouped_median_all(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Each value's group median over the group's finite values (NaN where none)."""
    ok = np.isfinite(values)
    med = grouped_median(values[ok], groups[ok], n_groups) if ok.any() else np.full(n_groups, np.nan)
    result: np.ndarray = med[groups]
    return result


def grouped_modz(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Modified z-score of each value within its group (NaN where the value is not finite)."""
    return modz_and_median(values, groups, n_groups)[0]


def modz_and_median(values: np.ndarray, groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Modified z-scores and each value's group median (both NaN where not finite)."""
    out = np.full(len(values), np.nan)
    med_out = np.full(len(values), np.nan)
    ok = np.isfinite(values)
    if not ok.any():
        return out, med_out
    v, g = values[ok], groups[ok]
    med = grouped_median(v, g, n_groups)
    med_out[ok] = med[g]
    dev = np.abs(v - med[g])
    mad = grouped_median(dev, g, n_groups)
    counts = np.bincount(g, minlength=n_groups)
    mean_ad = np.bincount(g, weights=dev, minlength=n_groups) / np.maximum(counts, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_mad = MODZ_K * (v - med[g]) / mad[g]
        z_mean = (v - med[g]) / (MEANAD_K * mean_ad[g])
    z = np.where(mad[g] > 0, z_mad, np.where(mean_ad[g] > 0, z_mean, 0.0))
    out[ok] = z
    return out, med_out


def ranks(values: np.ndarray) -> tuple[np.ndarray, float]:
    """Mid-ranks (1-based, ties share their average rank) and Σ(t³ − t) over tie groups."""
    order = np.argsort(values, kind="stable")
    v = values[order]
    boundary = np.concatenate([[True], v[1:] != v[:-1], [True]])
    starts = np.flatnonzero(boundary[:-1])
    sizes = np.diff(np.flatnonzero(boundary))
    mid = starts + (sizes + 1) / 2.0
    out = np.empty(len(values))
    out[order] = np.repeat(mid, sizes)
    return out, float(np.sum(sizes.astype(np.float64) ** 3 - sizes))


@dataclass(frozen=True, slots=True)
class RankSum:
    """One group against the rest: sizes, U of the group, two-sided p and Cliff's δ."""

    n1: int
    n2: int
    u: float
    p: float
    delta: float


def rank_sum_tests(values: np.ndarray, groups: np.ndarray, n_groups: int) -> list[RankSum | None]:
    """Mann–Whitney U of every group against all other values (None for an empty side)."""
    n = len(values)
    r, ties = ranks(values)
    rank_sums = np.bincount(groups, weights=r, minlength=n_groups)
    sizes = np.bincount(groups, minlength=n_groups)
    out: list[RankSum | None] = []
    for k in range(n_groups):
        n1, n2 = int(sizes[k]), int(n - sizes[k])
        if n1 == 0 or n2 == 0:
            out.append(None)
            continue
        u = float(rank_sums[k] - n1 * (n1 + 1) / 2.0)
        out.append(RankSum(n1, n2, u, _p_two_sided(u, n1, n2, ties), 2.0 * u / (n1 * n2) - 1.0))
    return out


def _p_two_sided(u: float, n1: int, n2: int, ties: float) -> float:
    """Normal approximation with tie correction and continuity correction."""
    n = n1 + n2
    mean = n1 * n2 / 2.0
    var = n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:
        return 1.0
    z = (abs(u - mean) - 0.5) / math.sqrt(var)
    return min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2.0)))
