"""Two-sample comparisons of groups: Mann–Whitney U, Bonferroni, Cliff's delta.

The test itself is the findings engine's (:func:`~pixel_patrol_base.findings.stats.rank_sum_tests`,
tie-corrected normal approximation with continuity correction), applied to one pair of groups
at a time, so the page and ``check`` agree on every p-value. For samples under 8 values the
page marks the comparison as indicative only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pixel_patrol_base.findings.stats import rank_sum_tests

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


def mann_whitney(a: np.ndarray, b: np.ndarray) -> Comparison:
    """Two-sided Mann–Whitney U test of ``a`` against ``b`` (NaN values dropped)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) == 0 or len(b) == 0:
        return Comparison(float("nan"), float("nan"), float("nan"), len(a), len(b))
    side = np.concatenate([np.zeros(len(a), np.int64), np.ones(len(b), np.int64)])
    res = rank_sum_tests(np.concatenate([a, b]), side, 2)[0]
    assert res is not None  # both sides are non-empty
    return Comparison(res.u, res.p, res.delta, res.n1, res.n2)


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
