"""Level counts of 8/16-bit pixels shared by raster-basic and raster-histogram (``_census``).

The statistics read from the counts must equal those of the pixel path (which the tests of
each processor check against numpy), and be exact: integer sums, one rounding.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixel_patrol_base.contracts import ImageContext, LeafStack
from pixel_patrol_base.processors import RasterBasic, RasterHistogram, _census
from pixel_patrol_base.processors._census import MEMO_KEY, count_levels
from pixel_patrol_base.processors.raster_histogram import histogram_edges, leaf_counts


def _stack(data: np.ndarray, census: bool = True) -> LeafStack:
    value_range = (float(data.min()), float(data.max()))
    stack = LeafStack(data, ImageContext("YX", data.shape[1:], str(data.dtype), value_range))
    if not census:
        stack.memo[MEMO_KEY] = {}  # every piece takes the pixel path
    return stack


def _images() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [
        rng.integers(0, 256, (3, 128, 160)).astype(np.uint8),  # three leaves in a piece
        (rng.normal(1500, 40, (2, 300, 301))).astype(np.uint16),  # leaves cut into pieces
        rng.integers(60000, 65536, (1, 256, 256)).astype(np.uint16),  # far from 0
        rng.integers(-700, 300, (4, 190, 190)).astype(np.int16),  # negative levels
        rng.integers(-128, 128, (2, 140, 140)).astype(np.int8),
        rng.random((2, 150, 160)) < 0.3,  # bool
    ]


@pytest.mark.parametrize("image", _images(), ids=lambda a: f"{a.dtype}{a.shape}")
def test_statistics_from_level_counts_equal_the_pixel_path(image: np.ndarray) -> None:
    assert count_levels(image.reshape(len(image), -1))  # the census path is taken
    for proc in (RasterBasic(), RasterHistogram()):
        got = proc.run(_stack(image))
        want = proc.run(_stack(image, census=False))
        for name, values in want.items():
            if name == "std_intensity":  # the pixel path's two-pass sum rounds more often
                np.testing.assert_allclose(got[name], values, rtol=1e-13)
            else:
                np.testing.assert_array_equal(got[name], values, err_msg=name)


@pytest.mark.parametrize("image", _images()[:4], ids=lambda a: f"{a.dtype}{a.shape}")
def test_moments_from_level_counts_are_correctly_rounded(image: np.ndarray) -> None:
    out = RasterBasic().run(_stack(image))
    for k, leaf in enumerate(image.reshape(len(image), -1)):
        values = [int(v) for v in leaf.tolist()]
        n, total = len(values), sum(values)
        squares = sum(v * v for v in values)
        assert out["mean_intensity"][k] == total / n  # one rounding of the exact mean
        assert out["mean_intensity"][k] == pytest.approx(float(np.mean(leaf, dtype=np.float64)), rel=1e-15)
        exact_m2 = (n * squares - total * total) / n
        if len(leaf) <= 65536:  # one piece: the std is sqrt of the correctly rounded m2 / n
            assert out["std_intensity"][k] == math.sqrt(exact_m2 / n)
        assert out["std_intensity"][k] == pytest.approx(float(np.std(leaf.astype(np.float64))), rel=1e-14)
        assert out["count_at_max"][k] == values.count(max(values))
        assert out["count_at_min"][k] == values.count(min(values))


def test_histogram_bins_fold_levels_from_any_first_level() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(1003, 1003 + 900, (3, 85536)).astype(np.uint16)  # 4 levels a bin, unaligned
    edges = histogram_edges(x.dtype, (1000.0, 2020.0))
    assert edges is not None and edges.width == 4
    census = count_levels(x)
    assert set(census) == {(r, c) for r in range(3) for c in (0, 65536)}
    got = leaf_counts(x, edges, census)
    want = np.stack([np.bincount((row.astype(np.int64) - 1000) // 4, minlength=256) for row in x])
    np.testing.assert_array_equal(got[:, :256], want)
    np.testing.assert_array_equal(leaf_counts(x, edges), got)


def test_spread_out_levels_keep_the_pixel_path() -> None:
    rng = np.random.default_rng(5)
    wide = rng.integers(0, 65536, (1, 20000)).astype(np.uint16)  # ~20,000 levels in 20,000 values
    assert count_levels(wide) == {}
    narrow = wide // 16  # ~4,096 levels in 20,000 values: at least 4 values a level
    assert set(count_levels(narrow)) == {(0, 0)}
    out = RasterBasic().run(_stack(wide.reshape(1, 100, 200)))
    assert out["mean_intensity"][0] == pytest.approx(float(wide.mean()), rel=1e-14)


def test_floats_wide_integers_and_small_leaves_have_no_level_counts() -> None:
    assert count_levels(np.zeros((2, 20000), np.float32)) == {}
    assert count_levels(np.zeros((2, 20000), np.int32)) == {}
    assert count_levels(np.zeros((20, 4000), np.uint8)) == {}  # vectorised over rows instead


def test_one_count_serves_every_processor_of_a_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = _census.count_levels
    monkeypatch.setattr(_census, "count_levels", lambda x: calls.append(x.shape) or real(x))
    stack = _stack(np.random.default_rng(1).integers(0, 4000, (2, 128, 128)).astype(np.uint16))
    RasterBasic().run(stack)
    RasterHistogram().run(stack)
    assert calls == [(2, 128 * 128)]


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["uint8", "int8", "uint16", "int16", "bool"]),
    st.integers(1, 5),
    st.integers(1, 60),
    st.integers(1, 60),
    st.integers(0, 2**16 - 1),
    st.sampled_from([0, 1, 3, 15, 63, 255, 1023]),  # few levels (counted) to many (not)
)
def test_any_cut_of_small_pieces_gives_the_pixel_path_values(
    dtype: str, n: int, h: int, w: int, seed: int, spread: int
) -> None:
    """Pieces of 256 values (grouped leaves, cut leaves, short last pieces), level counts
    from 64 values on: every statistic equals the pixel path's (std to rounding)."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        image = rng.random((n, h, w)) < 0.5
    else:
        info = np.iinfo(dtype)
        base = int(rng.integers(info.min, info.max - min(spread, info.max - info.min) + 1))
        image = (base + rng.integers(0, spread + 1, (n, h, w))).clip(info.min, info.max).astype(dtype)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("pixel_patrol_base.processors._pixels.PIECE_ELEMENTS", 256)
        mp.setattr(_census, "MIN_VALUES", 64)
        for proc in (RasterBasic(), RasterHistogram()):
            got = proc.run(_stack(image))
            want = proc.run(_stack(image, census=False))
            for name, values in want.items():
                if name == "std_intensity":
                    np.testing.assert_allclose(got[name], values, rtol=1e-12, atol=1e-300)
                else:
                    np.testing.assert_array_equal(got[name], values, err_msg=name)
