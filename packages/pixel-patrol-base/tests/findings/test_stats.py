"""Robust statistics against direct formulas and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from pixel_patrol_base.findings.stats import grouped_median, grouped_modz, rank_sum_tests, ranks


def test_modified_z_is_iglewicz_hoaglin() -> None:
    x = np.array([10.0, 11.0, 12.0, 13.0, 40.0])
    med, mad = 12.0, 1.0  # |x - 12| = 2, 1, 0, 1, 28 -> median 1
    z = grouped_modz(x, np.zeros(5, dtype=np.int64), 1)
    assert z == pytest.approx(0.6745 * (x - med) / mad)


def test_modified_z_falls_back_to_mean_absolute_deviation() -> None:
    x = np.array([5.0, 5.0, 5.0, 5.0, 9.0])  # MAD = 0, mean |dev| = 0.8
    z = grouped_modz(x, np.zeros(5, dtype=np.int64), 1)
    assert z[-1] == pytest.approx(4.0 / (1.253314 * 0.8)) and z[0] == 0.0
    assert grouped_modz(np.full(4, 3.0), np.zeros(4, dtype=np.int64), 1).tolist() == [0.0] * 4


def test_groups_are_independent_and_nan_is_skipped() -> None:
    x = np.array([1.0, 2.0, 3.0, np.nan, 100.0, 200.0, 300.0])
    g = np.array([0, 0, 0, 0, 1, 1, 1])
    z = grouped_modz(x, g, 2)
    assert np.isnan(z[3]) and z[[0, 4]] == pytest.approx([-0.6745, -0.6745])
    assert grouped_median(np.array([3.0, 1.0, 2.0, 10.0]), np.array([0, 0, 0, 1]), 3)[:2].tolist() == [2.0, 10.0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=3, max_size=25), st.lists(st.integers(0, 6), min_size=3, max_size=25))
def test_mann_whitney_and_cliffs_delta_match_scipy_and_definition(a: list[int], b: list[int]) -> None:
    values = np.array(a + b, dtype=np.float64)
    groups = np.array([0] * len(a) + [1] * len(b))
    res = rank_sum_tests(values, groups, 2)[0]
    assert res is not None
    ref = sps.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic", use_continuity=True)
    assert res.u == pytest.approx(ref.statistic)
    if np.isfinite(ref.pvalue) and len(set(a + b)) > 1:
        assert res.p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)
    delta = np.mean([np.sign(x - y) for x in a for y in b])
    assert res.delta == pytest.approx(delta)


def test_mid_ranks_and_tie_term() -> None:
    r, ties = ranks(np.array([3.0, 1.0, 3.0, 2.0, 3.0]))
    assert r.tolist() == [4.0, 1.0, 4.0, 2.0, 4.0] and ties == 3**3 - 3
