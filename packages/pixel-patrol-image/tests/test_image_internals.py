"""Building blocks: exact percentiles, padded layout, filters, sums, batching, reduction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from pixel_patrol_image._filters import dilate, gaussian_kernel, local_means
from pixel_patrol_image._layout import Layout
from pixel_patrol_image._order import _selected, order_statistics
from pixel_patrol_image._planes import _finite_groups, batches, per_leaf, to_planes
from pixel_patrol_image._robust import plane_stats, prepare
from pixel_patrol_image._sums import plane_dots, plane_sums
from pixel_patrol_image._workspace import Workspace


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16", "int32", "float32", "bool"])
@pytest.mark.parametrize("shape", [(1, 1, 1), (1, 7, 9), (5, 16, 16), (40, 3, 5)])
def test_percentiles_and_median_equal_numpy(dtype: str, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(sum(shape))
    if dtype == "bool":
        raw = rng.random(shape) > 0.7
    elif dtype.startswith("float"):
        raw = rng.normal(0, 100, shape).astype(dtype)
    else:
        info = np.iinfo(dtype)
        raw = rng.integers(max(info.min, -30000), min(info.max, 30000), shape).astype(dtype)
    stats = plane_stats(raw.view(np.uint8) if dtype == "bool" else raw, None)
    flat = raw.reshape(shape[0], -1).astype(np.float64)
    want = np.percentile(flat, [1, 99], axis=1)
    assert np.allclose(stats.lo, want[0], rtol=1e-12, atol=1e-9)
    assert np.allclose(stats.hi, want[1], rtol=1e-12, atol=1e-9)
    lower_median = np.sort(flat, axis=1)[:, (flat.shape[1] - 1) // 2]
    assert stats.offset.tolist() == lower_median.tolist()
    assert stats.vmin.tolist() == flat.min(axis=1).tolist()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-32768, 32767), min_size=1, max_size=200),
    st.integers(1, 4),
    st.sampled_from(["int16", "uint16", "uint8", "int8"]),
)
def test_counting_and_partitioning_give_the_same_order_statistics(
    values: list[int], b: int, dtype: str
) -> None:
    info = np.iinfo(dtype)
    row = np.clip(values, info.min, info.max)
    flat = np.stack([np.roll(row, i) + i for i in range(b)]).clip(info.min, info.max)
    flat = flat.astype(dtype)
    ranks = sorted({0, len(row) - 1, len(row) // 3, (len(row) - 1) // 2})
    counted = order_statistics(flat, ranks)
    partitioned = np.partition(flat, ranks, axis=1)[:, ranks].astype(np.float64)
    assert counted.tolist() == partitioned.tolist()


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["float16", "float32", "float64", "int32", "int64"]),
    st.integers(2, 3000),
    st.sampled_from(["normal", "spikes", "ties", "lognormal", "extremes", "subnormal"]),
    st.integers(0, 2**32 - 1),
)
def test_histogram_selection_returns_the_exact_order_statistics(
    dtype: str, n: int, kind: str, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    values = {
        "normal": lambda: rng.normal(size=n),
        "spikes": lambda: np.where(rng.random(n) < 0.99, 0.0, rng.normal(size=n) * 1e30),
        "ties": lambda: rng.integers(-5, 5, n).astype(float),
        "lognormal": lambda: np.exp(rng.normal(0, 15, n)),
        "extremes": lambda: rng.normal(size=n),
        "subnormal": lambda: rng.normal(size=n) * 1e-310,
    }[kind]()
    if dtype.startswith("float"):
        finfo = np.finfo(dtype)
        row = np.clip(values, float(finfo.min), float(finfo.max)).astype(dtype)
        extremes = np.array([finfo.min, finfo.max], dtype=dtype)
    else:
        iinfo = np.iinfo(dtype)
        row = np.clip(values, -(2.0**30), 2.0**30).astype(dtype)
        extremes = np.array([iinfo.min, iinfo.max], dtype=dtype)
    if kind == "extremes":
        row = np.concatenate([extremes, row])
    ranks = sorted({0, len(row) - 1, *rng.integers(0, len(row), 5).tolist()})
    want = np.partition(row, ranks)[ranks].astype(np.float64)
    assert _selected(row, ranks).tolist() == want.tolist()


def test_large_float16_planes_take_the_selection_route_exactly() -> None:
    """Planes of at least SELECT_MIN float16 pixels are selected in float32 (the compiled
    selection has no half type): the very stored values come back."""
    rng = np.random.default_rng(3)
    flat = rng.normal(100.0, 30.0, (2, 40000)).astype(np.float16)
    ranks = [0, 399, 400, 20000, 39599, 39600, 39999]
    want = np.sort(flat, axis=1)[:, ranks]
    got = order_statistics(flat, ranks)
    assert got.dtype == np.float16 and np.array_equal(got, want)


def test_masked_planes_use_only_finite_values() -> None:
    raw = np.array([[[np.nan, 1.0, 2.0, np.inf, 3.0, -np.inf]], [[np.nan] * 6]])
    fp = prepare(raw, True, Workspace())
    want = np.percentile([1.0, 2.0, 3.0], [1, 99])
    assert fp.stats.lo[0] == pytest.approx(want[0]) and fp.stats.hi[0] == pytest.approx(want[1])
    assert np.isnan(fp.stats.lo[1]) and not fp.stats.valid[1]
    assert fp.stats.count.tolist() == [3, 0]
    # centred on the median 2 (in units of a power of two near 1/D), 0 at non-finite pixels
    unit = fp.unit[0]
    assert fp.pixels(0)[0, 0].tolist() == [0.0, -unit, 0.0, 0.0, unit, 0.0]
    assert fp.pixels(1)[0, 0].tolist() == [0.0, 1.0, 1.0, 0.0, 1.0, 0.0]


def test_layout_keeps_planes_apart_with_zero_padding() -> None:
    layout = Layout(2, 3, 4)
    buf = np.arange(layout.size, dtype=np.float32)
    layout.clear_padding(buf)
    grid = layout.grid(buf)
    assert layout.stride == 8 and layout.block == 6 * 8 and layout.lead == 3 * 8
    assert not buf[: layout.lead].any() and not grid[:, 3:, :].any()
    assert not grid[:, :3, 4:].any() and grid[:, :3, :4].all()
    assert layout.interior(buf, 1, 1).tolist() == [
        [[72, 73, 74, 75], [80, 81, 82, 83], [88, 89, 90, 91]]
    ]


def _padded(planes: np.ndarray, extra: np.ndarray | None = None) -> tuple[np.ndarray, Layout]:
    """Planes (and optional mask planes after them) in a padded float32 buffer."""
    stack = planes if extra is None else np.concatenate([planes, extra])
    layout = Layout(len(stack), *planes.shape[1:])
    buf = np.zeros(layout.size, np.float32)
    layout.interior(buf)[...] = stack
    return buf, layout


@pytest.mark.parametrize("shape", [(2, 1, 1), (1, 2, 9), (1, 3, 3), (3, 12, 17), (1, 40, 6)])
def test_local_means_equal_the_normalised_float64_gaussian(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=shape)
    k = gaussian_kernel(7 / 6, 3)
    buf, layout = _padded(a.astype(np.float32))
    got = layout.interior(local_means(buf, layout, 0, k, np.empty_like(buf), Workspace()))

    def gauss(v: np.ndarray) -> np.ndarray:
        return ndi.gaussian_filter(v, (0, 7 / 6, 7 / 6), radius=(0, 3, 3), mode="constant")

    want = gauss(a) / gauss(np.ones_like(a))
    assert np.allclose(got, want, rtol=1e-5, atol=1e-6)


def test_local_means_over_finite_pixels_by_hand() -> None:
    z = np.array([[[1.0, 0.0, 3.0]]], dtype=np.float32)  # the 0 stands for a NaN pixel
    finite = np.array([[[1.0, 0.0, 1.0]]], dtype=np.float32)
    buf, layout = _padded(z, finite)
    got = local_means(buf, layout, 1, (0.25, 0.5, 0.25), np.empty_like(buf), Workspace())
    # pixel 0: (0.5*1) / 0.5; pixel 1: (0.25*1 + 0.25*3) / 0.5; pixel 2: (0.5*3) / 0.5
    assert layout.interior(got, 0, 1).tolist() == [[[1.0, 2.0, 3.0]]]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.integers(1, 70), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_plane_sums_do_not_depend_on_the_other_planes(h: int, w: int, b: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    planes = (rng.normal(size=(b, h, w)) * rng.uniform(0.1, 1e4)).astype(np.float32)
    buf, layout = _padded(planes)
    sums, dots = plane_sums(layout.interior(buf)), plane_dots(*[layout.interior(buf)] * 2)
    for i in range(b):
        one, one_layout = _padded(planes[i : i + 1])
        alone = one_layout.interior(one)
        assert plane_sums(alone)[0] == sums[i]
        assert plane_dots(alone, alone)[0] == dots[i]
        assert plane_sums(np.ascontiguousarray(alone))[0] == sums[i]


def test_finite_groups_split_planes_by_their_own_pixels() -> None:
    raw = np.ones((4, 3, 3), dtype=np.float32)
    raw[1, 0, 0] = np.nan
    raw[3, 2, 2] = -np.inf
    groups = _finite_groups(raw)
    assert [(g.tolist(), masked) for g, masked in groups] == [([0, 2], False), ([1, 3], True)]
    assert _finite_groups(raw[[0, 2]]) == [(None, False)]
    assert _finite_groups(raw[[1]]) == [(None, True)]
    assert _finite_groups(np.ones((2, 3, 3), dtype=np.uint8)) == [(None, False)]


def test_batches_cover_every_plane_within_the_budget() -> None:
    parts = list(batches(10, 300, budget=1000))
    assert [(p.start, p.stop) for p in parts] == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert [(p.start, p.stop) for p in batches(2, 5000, budget=1000)] == [(0, 1), (1, 2)]


def test_to_planes_is_leaf_major_and_refuses_bad_layouts() -> None:
    data = np.arange(2 * 3 * 4 * 5).reshape(2, 4, 5, 3)  # n=2 leaves of Y, X, S
    planes = to_planes(data, "YXS")
    assert planes.planes.shape == (6, 4, 5) and planes.n_leaves == 2
    assert np.array_equal(planes.planes[4], data[1, :, :, 1])
    with pytest.raises(ValueError, match="Y and X"):
        to_planes(data, "ZCS")
    with pytest.raises(ValueError, match="leaf axes"):
        to_planes(data, "YX")


def test_per_leaf_averages_valid_planes_and_counts_them() -> None:
    values = np.array([[1.0, 3.0, np.nan, np.nan, np.nan, 5.0]])
    out = per_leaf(values, ("m",), 3)
    assert out["m_planes"].tolist() == [2, 0, 1]
    assert out["m"][0] == 2.0 and np.isnan(out["m"][1]) and out["m"][2] == 5.0


@pytest.mark.parametrize("radius", [0, 1, 2, 4, 8, 13])
@pytest.mark.parametrize("shape", [(2, 40, 33), (1, 5, 3), (1, 1, 20), (3, 17, 1)])
def test_dilate_is_the_chessboard_dilation(shape: tuple[int, int, int], radius: int) -> None:
    mask = np.random.default_rng(sum(shape) + radius).random(shape) > 0.93
    want = np.zeros_like(mask)
    for b, i, j in np.ndindex(*shape):
        lo_i, lo_j = max(0, i - radius), max(0, j - radius)
        want[b, i, j] = mask[b, lo_i : i + radius + 1, lo_j : j + radius + 1].any()
    assert np.array_equal(dilate(mask, radius), want)
