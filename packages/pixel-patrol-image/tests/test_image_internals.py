"""Building blocks: exact percentiles, normalised filters, batching and the leaf reduction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from pixel_patrol_image._filters import dilate, gaussian_kernel, local_mean, separable
from pixel_patrol_image._planes import batches, per_leaf, to_planes
from pixel_patrol_image._robust import mean_var, prepare, robust_bounds
from pixel_patrol_image._workspace import Workspace


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16", "int32", "float32", "bool"])
@pytest.mark.parametrize("shape", [(1, 1, 1), (1, 7, 9), (5, 16, 16), (40, 3, 5)])
def test_robust_bounds_equal_numpy_percentiles(dtype: str, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(sum(shape))
    if dtype == "bool":
        raw = rng.random(shape) > 0.7
    elif dtype.startswith("float"):
        raw = rng.normal(0, 100, shape).astype(dtype)
    else:
        info = np.iinfo(dtype)
        raw = rng.integers(max(info.min, -30000), min(info.max, 30000), shape).astype(dtype)
    fp = prepare(raw, Workspace())
    want = np.percentile(raw.reshape(shape[0], -1).astype(np.float64), [1, 99], axis=1)
    assert np.allclose(fp.lo, want[0], rtol=1e-12, atol=1e-9)
    assert np.allclose(fp.hi, want[1], rtol=1e-12, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 65535), min_size=1, max_size=200),
    st.integers(1, 4),
)
def test_counting_percentiles_match_numpy_for_any_uint16_values(values: list[int], b: int) -> None:
    raw = np.array(values * b, dtype=np.uint16).reshape(b, 1, -1)
    raw = raw + np.arange(b, dtype=np.uint16)[:, None, None]  # different planes
    lo, hi = robust_bounds(raw, raw.astype(np.float64), None)
    want = np.percentile(raw.reshape(b, -1).astype(np.float64), [1, 99], axis=1)
    assert np.allclose(lo, want[0]) and np.allclose(hi, want[1])


def test_masked_bounds_use_only_finite_values() -> None:
    raw = np.array([[[np.nan, 1.0, 2.0, np.inf, 3.0, -np.inf]], [[np.nan] * 6]])
    fp = prepare(raw, Workspace())
    want = np.percentile([1.0, 2.0, 3.0], [1, 99])
    assert fp.lo[0] == pytest.approx(want[0]) and fp.hi[0] == pytest.approx(want[1])
    assert np.isnan(fp.lo[1]) and not fp.valid[1]
    lo = want[0]  # centred on the 1st percentile, non-finite pixels set to 0
    assert fp.centred[0, 0].tolist() == pytest.approx([0.0, 1 - lo, 2 - lo, 0.0, 3 - lo, 0.0])
    assert fp.offset.tolist() == pytest.approx([lo, 0.0])


@pytest.mark.parametrize("shape", [(2, 1, 1), (1, 2, 9), (1, 3, 3), (3, 12, 17), (1, 40, 6)])
def test_separable_gaussian_equals_scipy_with_zero_padding(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=shape)
    k = gaussian_kernel(7 / 6, 3)
    got = separable(a, k, np.empty_like(a), Workspace())
    want = ndi.gaussian_filter(a, (0, 7 / 6, 7 / 6), radius=(0, 3, 3), mode="constant")
    assert np.allclose(got, want, rtol=1e-12, atol=1e-14)


def test_local_mean_over_finite_pixels_by_hand() -> None:
    z = np.array([[[1.0, 0.0, 3.0]]])  # the 0 stands for a NaN pixel
    finite = np.array([[[True, False, True]]])
    k = (0.25, 0.5, 0.25)
    got = local_mean(z, finite, k, np.empty_like(z), Workspace())
    # pixel 0: (0.5*1) / 0.5; pixel 1: (0.25*1 + 0.25*3) / 0.5; pixel 2: (0.5*3) / 0.5
    assert got.tolist() == [[[1.0, 2.0, 3.0]]]


def test_mean_var_with_and_without_mask() -> None:
    a = np.array([[[1.0, 2.0], [3.0, 6.0]]])
    mean, var = mean_var(a, None, np.empty_like(a))
    assert mean.tolist() == [3.0] and var.tolist() == [3.5]
    mask = np.array([[[True, True], [True, False]]])
    mean, var = mean_var(a, mask, np.empty_like(a))
    assert mean.tolist() == [2.0] and var[0] == pytest.approx(2 / 3)


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
    values = {"m": np.array([1.0, 3.0, np.nan, np.nan, np.nan, 5.0])}
    out = per_leaf(values, 3)
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
