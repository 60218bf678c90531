"""raster-basic: values, NaN/Inf exclusion, declared types, bounded pieces."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from pixel_patrol_base.contracts import Agg, ImageContext, ImageHeader, LeafStack
from pixel_patrol_base.engine import process_image
from pixel_patrol_base.processors import RasterBasic
from pixel_patrol_base.processors.raster_basic import basic_stats


def _stack(data: np.ndarray) -> LeafStack:
    return LeafStack(data, ImageContext("YX", data.shape[1:], str(data.dtype)))


def test_three_by_three() -> None:
    out = RasterBasic().run(_stack(np.arange(1, 10, dtype=np.uint8).reshape(1, 3, 3)))
    assert out["min_intensity"].tolist() == [1.0]
    assert out["max_intensity"].tolist() == [9.0]
    assert out["mean_intensity"].tolist() == [5.0]
    assert out["std_intensity"][0] == pytest.approx(np.sqrt(60 / 9), rel=1e-15)
    assert out["finite_pixel_count"].tolist() == [9]


def test_nan_and_inf_are_excluded() -> None:
    data = np.array([[[1.0, np.nan, 3.0], [np.inf, -np.inf, 5.0]]], dtype=np.float32)
    out = basic_stats(data.reshape(1, -1))
    assert out["finite_pixel_count"].tolist() == [3]
    assert (out["min_intensity"][0], out["max_intensity"][0]) == (1.0, 5.0)
    assert out["mean_intensity"][0] == 3.0
    assert out["std_intensity"][0] == pytest.approx(np.std([1.0, 3.0, 5.0]), rel=1e-15)


def test_rows_with_no_finite_value_are_nan() -> None:
    data = np.array([[np.nan, np.inf], [1.0, 2.0]])
    out = basic_stats(data)
    assert np.isnan(out["mean_intensity"][0]) and out["mean_intensity"][1] == 1.5
    assert np.isnan(out["min_intensity"][0]) and np.isnan(out["std_intensity"][0])
    assert out["finite_pixel_count"].tolist() == [0, 2]


def test_large_offset_keeps_std_accurate() -> None:
    data = 1e9 + np.array([[0.0, 1.0, 2.0, 3.0]])
    assert basic_stats(data)["std_intensity"][0] == pytest.approx(np.sqrt(1.25), rel=1e-12)


def test_bool_image() -> None:
    out = basic_stats(np.array([[True, False, True, True]]))
    assert out["mean_intensity"][0] == 0.75 and out["max_intensity"][0] == 1.0


def test_declared_types_do_not_depend_on_data() -> None:
    types = {c.name: c.type for c in RasterBasic.COLUMNS}
    assert types["finite_pixel_count"] == pa.int64()
    assert all(
        types[n] == pa.float64()
        for n in ("min_intensity", "max_intensity", "mean_intensity", "std_intensity")
    )
    aggs = {c.name: c.agg for c in RasterBasic.COLUMNS}
    assert aggs["std_intensity"] is Agg.STD and aggs["mean_intensity"] is Agg.MEAN
    for image in (np.zeros((2, 2), np.uint8), np.zeros((2, 2), np.float32)):
        rows = process_image(
            image, ImageHeader("YX", (2, 2), str(image.dtype)), {}, [RasterBasic()]
        )
        assert (
            type(rows["finite_pixel_count"][0]) is int and type(rows["mean_intensity"][0]) is float
        )


def test_pixel_pieces_match_single_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    data = rng.normal(100, 3, size=(4, 37)).astype(np.float32)
    data[1, 5] = np.nan
    data[2, :] = np.inf
    want = basic_stats(data)
    monkeypatch.setattr("pixel_patrol_base.blocks.STACK_ELEMENTS", 6)
    monkeypatch.setattr("pixel_patrol_base.processors._pixels.PIECE_ELEMENTS", 6)
    got = basic_stats(data)
    for name in want:
        if name == "mean_intensity_residual":  # rounding error of the mean: only its size is fixed
            assert np.all(np.abs(got[name]) <= np.nan_to_num(np.spacing(np.abs(want["mean_intensity"]))))
        else:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-12)


def test_engine_batches_match_single_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    image = rng.integers(0, 5000, size=(3, 4, 5, 6)).astype(np.uint16)
    header = ImageHeader("TZYX", image.shape, "uint16")
    want = process_image(image, header, {"Y": 2}, [RasterBasic()])
    monkeypatch.setattr("pixel_patrol_base.blocks.STACK_ELEMENTS", 13)
    monkeypatch.setattr("pixel_patrol_base.processors._pixels.PIECE_ELEMENTS", 13)
    got = process_image(image, header, {"Y": 2}, [RasterBasic()])
    assert got["min_intensity"] == want["min_intensity"]
    np.testing.assert_allclose(got["std_intensity"], want["std_intensity"], rtol=1e-12)


def test_counts_at_extremes_are_exact_for_64_bit_integers() -> None:
    top = np.iinfo(np.int64).max
    data = np.array([[top, top - 1, top, 5, 5, 5]], dtype=np.int64)
    out = RasterBasic().run(_stack(data.reshape(1, 2, 3)))
    assert (out["count_at_max"].tolist(), out["count_at_min"].tolist()) == ([2], [3])


def test_counts_at_extremes_skip_non_finite_and_treat_zeros_as_equal() -> None:
    data = np.array([[np.inf, 2.0, np.nan, 2.0, -0.0, 0.0, -np.inf]], dtype=np.float32)
    out = RasterBasic().run(_stack(data.reshape(1, 1, 7)))
    assert (out["count_at_max"].tolist(), out["count_at_min"].tolist()) == ([2], [2])
    none = RasterBasic().run(_stack(np.full((1, 1, 3), np.nan)))
    assert (none["count_at_max"].tolist(), none["count_at_min"].tolist()) == ([0], [0])
