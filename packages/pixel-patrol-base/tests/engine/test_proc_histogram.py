"""raster-histogram: the edge rule, exact integer counts, float edge semantics, non-finite values."""

from __future__ import annotations

import numpy as np
import pytest
from engine_testkit import expected_histogram, plain

from pixel_patrol_base.contracts import ImageContext, ImageHeader, LeafStack
from pixel_patrol_base.engine import finite_range, process_image
from pixel_patrol_base.processors import RasterHistogram
from pixel_patrol_base.processors.raster_histogram import histogram_edges

HIST = [RasterHistogram()]


@pytest.mark.parametrize(
    ("dtype", "value_range", "lo", "hi", "width"),
    [
        ("uint8", (3, 9), 0, 256, 1),
        ("int8", (-5, 5), -128, 128, 1),
        ("bool", None, 0, 256, 1),
        ("uint16", (100, 120), 100, 356, 1),
        ("uint16", (0, 65535), 0, 65536, 256),
        ("uint16", (10, 266), 10, 10 + 512, 2),
        ("int32", (-1000, 1000), -1000, -1000 + 256 * 8, 8),
        ("int64", (-(2**63), 2**63 - 1), -(2**63), -(2**63) + 2**64, 2**56),
        ("uint64", (0, 2**64 - 1), 0, 2**64, 2**56),
    ],
    ids=["u8", "i8", "bool", "u16-narrow", "u16-full", "u16-257", "i32", "i64-full", "u64-full"],
)
def test_integer_edge_rule(
    dtype: str, value_range: tuple[int, int] | None, lo: int, hi: int, width: int
) -> None:
    edges = histogram_edges(dtype, value_range)
    assert edges is not None and edges.integer
    assert (edges.lo, edges.hi, edges.width) == (lo, hi, width)


def test_float_edges_and_undefined_cases() -> None:
    edges = histogram_edges("float32", (-1.5, 2.5))
    assert edges is not None and (edges.lo, edges.hi, edges.integer) == (-1.5, 2.5, False)
    assert histogram_edges("float32", None) is None
    assert histogram_edges("uint16", None) is None
    with pytest.raises(TypeError, match="not supported"):
        histogram_edges("complex64", (0, 1))


def _counts(image: np.ndarray, dim_order: str = "YX") -> dict:
    rows = plain(
        process_image(image, ImageHeader(dim_order, image.shape, str(image.dtype)), {}, HIST)
    )
    return {k: v[0] for k, v in rows.items()}


def test_uint8_one_bin_per_level() -> None:
    image = np.array([[0, 1, 1], [255, 255, 255]], dtype=np.uint8)
    row = _counts(image)
    assert (row["histogram_min"], row["histogram_max"]) == (0.0, 256.0)
    assert row["histogram_counts"][0] == 1 and row["histogram_counts"][1] == 2
    assert row["histogram_counts"][255] == 3 and sum(row["histogram_counts"]) == 6


def test_int8_is_anchored_at_minus_128() -> None:
    row = _counts(np.array([[-128, 0, 127]], dtype=np.int8))
    assert row["histogram_min"] == -128.0
    assert [row["histogram_counts"][i] for i in (0, 128, 255)] == [1, 1, 1]


def test_bool_levels() -> None:
    row = _counts(np.array([[True, False, True]]))
    assert row["histogram_counts"][:3] == [1, 2, 0]


def test_wide_uint16_bins_are_exact_integer_ranges() -> None:
    image = np.array([[10, 11, 12, 13, 266]], dtype=np.uint16)  # span 257 -> width 2
    row = _counts(image)
    assert (row["histogram_min"], row["histogram_max"]) == (10.0, 522.0)
    assert row["histogram_counts"][0] == 2 and row["histogram_counts"][1] == 2
    assert row["histogram_counts"][128] == 1


def test_int64_extremes_without_overflow() -> None:
    image = np.array([[-(2**63), -1, 0, 2**63 - 1]], dtype=np.int64)
    row = _counts(image)
    assert row["histogram_counts"][0] == 1
    assert row["histogram_counts"][127] == 1  # -1 is 2**63 - 1 above the minimum
    assert row["histogram_counts"][128] == 1
    assert row["histogram_counts"][255] == 1


def test_uint64_high_values() -> None:
    image = np.array([[2**64 - 1, 2**64 - 2, 2**63]], dtype=np.uint64)
    row = _counts(image)
    assert sum(row["histogram_counts"]) == 3
    assert row["histogram_min"] == float(2**63)
    assert row["histogram_counts"][255] == 2 and row["histogram_counts"][0] == 1


def test_float_counts_equal_numpy_histogram_including_edge_values() -> None:
    rng = np.random.default_rng(5)
    image = rng.normal(size=(40, 50)).astype(np.float32)
    lo, hi = float(image.min()), float(image.max())
    edges = np.linspace(lo, hi, 257)
    image[0, :20] = edges[rng.integers(0, 257, 20)]  # values exactly on bin edges
    row = _counts(image)
    want = np.histogram(image.astype(np.float64), bins=256, range=(lo, hi))[0]
    assert row["histogram_counts"] == want.tolist()
    assert row["histogram_counts"][255] >= 1  # the maximum lands in the closed last bin


def test_float_infinities_go_to_outer_bins_and_nan_is_counted_apart() -> None:
    image = np.array([[1.0, 2.0, np.inf, -np.inf, np.nan, np.nan]], dtype=np.float32)
    row = _counts(image)
    assert (row["histogram_min"], row["histogram_max"]) == (1.0, 2.0)
    assert row["histogram_counts"][0] == 2  # 1.0 and -inf
    assert row["histogram_counts"][255] == 2  # 2.0 and +inf
    assert row["histogram_nan_count"] == 2


def test_constant_float_image_uses_bin_zero() -> None:
    row = _counts(np.full((2, 3), 7.25, dtype=np.float32))
    assert (row["histogram_min"], row["histogram_max"]) == (7.25, 7.25)
    assert row["histogram_counts"][0] == 6


def test_only_infinities_have_null_bounds_but_keep_counts() -> None:
    row = _counts(np.array([[np.inf, -np.inf, np.nan]], dtype=np.float64))
    assert row["histogram_min"] is None and row["histogram_max"] is None
    assert row["histogram_counts"][0] == 1 and row["histogram_counts"][255] == 1
    assert row["histogram_nan_count"] == 1


def test_rolled_up_rows_share_edges_and_sum_counts() -> None:
    image = np.stack([np.full((4, 4), 10, np.uint16), np.full((4, 4), 1000, np.uint16)])
    rows = process_image(image, ImageHeader("ZYX", image.shape, "uint16"), {}, HIST)
    assert rows["histogram_min"] == [10.0] * 3 and rows["histogram_max"] == [10.0 + 256 * 4] * 3
    c0, z0, z1 = (np.array(c) for c in rows["histogram_counts"])
    assert np.array_equal(c0, z0 + z1)
    assert z0[0] == 16 and z1[(1000 - 10) // 4] == 16


def test_integer_image_needs_a_value_range() -> None:
    stack = LeafStack(np.zeros((1, 2, 2), np.uint16), ImageContext("YX", (2, 2), "uint16", None))
    with pytest.raises(ValueError, match="value range"):
        RasterHistogram().run(stack)


def test_float_image_with_values_but_missing_range_is_an_error() -> None:
    stack = LeafStack(np.ones((1, 2, 2), np.float32), ImageContext("YX", (2, 2), "float32", None))
    with pytest.raises(ValueError, match="no image value range"):
        RasterHistogram().run(stack)


def test_pixel_pieces_give_same_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(9)
    image = rng.normal(size=(3, 7, 9)).astype(np.float32)
    image[0, 0, 0] = np.nan
    header = ImageHeader("ZYX", image.shape, "float32")
    want = plain(process_image(image, header, {"Z": -1}, HIST))
    monkeypatch.setattr("pixel_patrol_base.blocks.STACK_ELEMENTS", 5)
    monkeypatch.setattr("pixel_patrol_base.processors._pixels.PIECE_ELEMENTS", 5)
    assert plain(process_image(image, header, {"Z": -1}, HIST)) == want
    assert finite_range(image) == (float(np.nanmin(image)), float(np.nanmax(image)))


@pytest.mark.parametrize(
    ("lo", "hi"),
    [(-1.7, 3.1), (1e6, 1e6 + 3.0), (-3e38, 3e38), (0.0, 1e-40), (1.0, 1.0 + 2**-20)],
    ids=["plain", "large-offset", "huge-span", "denormal-span", "few-float32-steps"],
)
def test_float32_values_next_to_every_edge_are_binned_like_numpy(lo: float, hi: float) -> None:
    lo32, hi32 = np.float32(lo), np.float32(hi)
    edges = np.linspace(float(lo32), float(hi32), 257)
    near = edges.astype(np.float32)
    values = np.concatenate(
        [near, np.nextafter(near, np.float32(-np.inf)), np.nextafter(near, np.float32(np.inf))]
    )
    values = np.clip(values, lo32, hi32).astype(np.float32)
    row = _counts(values.reshape(1, -1))
    want = np.histogram(values.astype(np.float64), bins=256, range=(float(lo32), float(hi32)))[0]
    assert row["histogram_counts"] == want.tolist()


@pytest.mark.parametrize("dtype", ["int64", "uint64", "uint32", "float16", ">u2", ">f4"])
def test_other_pixel_types_match_the_reference(dtype: str) -> None:
    rng = np.random.default_rng(21)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        image = rng.normal(5, 2, (3, 6, 7)).astype(dt)
        image[0, 0, 0] = np.nan
    else:
        info = np.iinfo(dt)
        image = rng.integers(
            info.min, info.max, (3, 6, 7), dtype=dt.newbyteorder("="), endpoint=True
        ).astype(dt)
    rows = plain(process_image(image, ImageHeader("ZYX", image.shape, dt.name), {}, HIST))
    for i, z in enumerate([None, 0, 1, 2]):
        px = image if z is None else image[z]
        lo, _, nan, counts = expected_histogram(px, image)
        assert rows["histogram_counts"][i] == counts
        assert (rows["histogram_min"][i], rows["histogram_nan_count"][i]) == (lo, nan)
