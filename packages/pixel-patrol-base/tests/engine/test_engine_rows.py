"""Row structure of finish_image / process_image and the bad-input cases."""

from __future__ import annotations

import pickle
import time

import numpy as np
import pytest
from engine_testkit import PROCESSORS, make_image, plain, run_tiled

from pixel_patrol_base.blocks import EmptyImageError
from pixel_patrol_base.contracts import ImageHeader
from pixel_patrol_base.engine import (
    analyse_chunk,
    columns_for,
    finish_image,
    finite_range,
    merge_ranges,
    process_image,
)
from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.processors import RasterBasic, RasterHistogram, Thumbnail


def _zc_image() -> tuple[np.ndarray, ImageHeader]:
    image = np.zeros((2, 2, 3, 4), dtype=np.uint16)
    for z in range(2):
        for c in range(2):
            image[z, c] = 100 * z + 10 * c + np.arange(12).reshape(3, 4)
    return image, ImageHeader("ZCYX", image.shape, "uint16")


def test_spec_example_z2_c2_gives_nine_rows_in_documented_order() -> None:
    image, header = _zc_image()
    rows = process_image(image, header, {}, PROCESSORS)
    assert rows["obs_level"] == [0, 1, 1, 1, 1, 2, 2, 2, 2]
    assert rows["dim_z"] == [None, 0, 1, None, None, 0, 0, 1, 1]
    assert rows["dim_c"] == [None, None, None, 0, 1, 0, 1, 0, 1]
    assert rows["dim_t"] == [None] * 9 and rows["dim_s"] == [None] * 9
    assert rows["Z_size"] == [2, 1, 1, 2, 2, 1, 1, 1, 1]
    assert rows["C_size"] == [2, 2, 2, 1, 1, 1, 1, 1, 1]
    assert rows["Y_size"] == [3] * 9 and rows["X_size"] == [4] * 9
    assert rows["num_pixels"] == [48, 24, 24, 24, 24, 12, 12, 12, 12]
    # plane (z, c) holds 100 z + 10 c + 0..11, mean 100 z + 10 c + 5.5
    assert rows["mean_intensity"] == [60.5, 10.5, 110.5, 55.5, 65.5, 5.5, 15.5, 105.5, 115.5]
    assert rows["min_intensity"] == [0.0, 0.0, 100.0, 0.0, 10.0, 0.0, 10.0, 100.0, 110.0]
    assert rows["max_intensity"][0] == 121.0
    assert rows["finite_pixel_count"] == rows["num_pixels"]
    assert "dim_y" not in rows and "dim_x" not in rows


def test_thumbnail_columns_only_on_obs_level_0() -> None:
    image, header = _zc_image()
    rows = process_image(image, header, {}, PROCESSORS)
    assert len(rows["thumbnail"][0]) == 64 * 64 * 4
    assert rows["thumbnail_dtype"] == ["uint16"] + [None] * 8
    assert rows["thumbnail"][1:] == [None] * 8
    assert rows["thumbnail_norm_min"][1:] == [None] * 8


def test_z_blocks_of_five_with_short_last_block() -> None:
    image = np.arange(12 * 2 * 2, dtype=np.float32).reshape(12, 2, 2)
    rows = process_image(image, ImageHeader("ZYX", image.shape, "float32"), {"Z": 5}, PROCESSORS)
    assert rows["dim_z"] == [None, 0, 5, 10]
    assert rows["Z_size"] == [12, 5, 5, 2]
    assert rows["num_pixels"] == [48, 20, 20, 8]
    assert rows["mean_intensity"][3] == float(np.mean(image[10:]))


def test_axis_covered_by_one_block_gives_no_rows() -> None:
    image = np.ones((3, 4, 4), dtype=np.uint8)
    rows = process_image(image, ImageHeader("ZYX", image.shape, "uint8"), {"Z": -1}, PROCESSORS)
    assert rows["obs_level"] == [0]
    assert rows["dim_z"] == [None] and rows["Z_size"] == [3]


def test_plane_tiling_adds_dim_y_and_dim_x_rows() -> None:
    image = np.arange(5 * 6, dtype=np.int16).reshape(5, 6)
    rows = process_image(
        image, ImageHeader("YX", image.shape, "int16"), {"Y": 2, "X": 3}, PROCESSORS
    )
    # Y blocks 0, 2, 4 (last one short); X blocks 0, 3
    assert len(rows["obs_level"]) == (3 + 1) * (2 + 1)
    assert rows["dim_y"][:6] == [None, 0, 2, 4, None, None]
    assert rows["dim_x"][:6] == [None, None, None, None, 0, 3]
    i = next(
        i for i in range(len(rows["obs_level"])) if rows["dim_y"][i] == 4 and rows["dim_x"][i] == 3
    )
    assert (rows["Y_size"][i], rows["X_size"][i]) == (1, 3)
    assert rows["min_intensity"][i] == float(image[4, 3])


def test_plane_slice_size_larger_than_image_keeps_columns_but_no_rows() -> None:
    image = np.zeros((4, 4), dtype=np.uint8)
    rows = process_image(image, ImageHeader("YX", (4, 4), "uint8"), {"Y": 100}, PROCESSORS)
    assert rows["dim_y"] == [None] and "dim_x" not in rows


def test_rgb_image_has_one_row_per_sample() -> None:
    image = np.zeros((2, 3, 3), dtype=np.uint8)
    image[..., 1] = 7
    rows = process_image(image, ImageHeader("YXS", image.shape, "uint8"), {}, PROCESSORS)
    assert rows["dim_s"] == [None, 0, 1, 2]
    assert rows["S_size"] == [3, 1, 1, 1]
    assert rows["mean_intensity"] == [7 / 3, 0.0, 7.0, 0.0]


def test_one_by_one_image() -> None:
    image = np.array([[42]], dtype=np.uint16)
    rows = process_image(image, ImageHeader("YX", (1, 1), "uint16"), {}, PROCESSORS)
    assert rows["obs_level"] == [0]
    assert rows["min_intensity"] == rows["max_intensity"] == rows["mean_intensity"] == [42.0]
    assert rows["std_intensity"] == [0.0]
    assert rows["histogram_min"] == [42.0] and rows["histogram_max"] == [298.0]
    assert rows["histogram_counts"][0][0] == 1 and sum(rows["histogram_counts"][0]) == 1


def test_all_nan_image_gives_null_statistics() -> None:
    image = np.full((3, 2, 2), np.nan, dtype=np.float32)
    rows = process_image(image, ImageHeader("ZYX", image.shape, "float32"), {}, PROCESSORS)
    n = 4
    for name in ("min_intensity", "max_intensity", "mean_intensity", "std_intensity"):
        assert rows[name] == [None] * n
    assert rows["finite_pixel_count"] == [0] * n
    assert rows["histogram_min"] == rows["histogram_max"] == [None] * n
    assert rows["histogram_nan_count"] == [12, 4, 4, 4]
    assert all(sum(c) == 0 for c in rows["histogram_counts"])
    assert rows["thumbnail_norm_min"][0] is None
    rgba = np.frombuffer(rows["thumbnail"][0], np.uint8).reshape(64, 64, 4)
    assert not rgba[..., 3].any()


def test_one_nan_plane_among_finite_planes() -> None:
    image = np.ones((2, 2, 2), dtype=np.float64)
    image[1] = np.nan
    rows = process_image(image, ImageHeader("ZYX", image.shape, "float64"), {}, PROCESSORS)
    assert rows["mean_intensity"] == [1.0, 1.0, None]
    assert rows["std_intensity"] == [0.0, 0.0, None]
    assert rows["histogram_min"] == [1.0, 1.0, 1.0]  # image-wide edges on every row
    assert rows["histogram_nan_count"] == [4, 0, 4]


def test_zero_size_axis_is_a_clear_error() -> None:
    image = np.zeros((0, 4, 4), dtype=np.uint8)
    with pytest.raises(EmptyImageError, match="zero-length axis"):
        process_image(image, ImageHeader("ZYX", image.shape, "uint8"), {}, PROCESSORS)


@pytest.mark.parametrize("size", [0, -2])
def test_invalid_slice_size_is_a_settings_error(size: int) -> None:
    image = np.zeros((2, 2), dtype=np.uint8)
    with pytest.raises(SettingsError, match="-1 or a positive integer"):
        process_image(image, ImageHeader("YX", (2, 2), "uint8"), {"Y": size}, PROCESSORS)


def test_ten_thousand_planes_are_fast() -> None:
    image = np.random.default_rng(0).integers(0, 1000, (10_000, 3, 4)).astype(np.uint16)
    header = ImageHeader("ZYX", image.shape, "uint16")
    t0 = time.perf_counter()
    rows = process_image(image, header, {}, PROCESSORS)
    elapsed = time.perf_counter() - t0
    assert len(rows["obs_level"]) == 1 + 10_000
    assert rows["dim_z"][1:] == list(range(10_000))
    assert rows["max_intensity"][1 + 1234] == float(image[1234].max())
    assert rows["mean_intensity"][1 + 9999] == pytest.approx(float(image[9999].mean()), rel=1e-12)
    assert elapsed < 5.0, f"10,000 planes took {elapsed:.2f} s"


def test_chunk_result_pickles_and_is_small() -> None:
    image, header = _zc_image()
    chunk = analyse_chunk(image, None, header, {}, PROCESSORS, finite_range(image))
    data = pickle.dumps(chunk)
    back = pickle.loads(data)
    assert np.array_equal(back.starts, chunk.starts)
    assert back.leaf.keys() == chunk.leaf.keys()
    assert len(data) < 64 * 1024


def test_chunk_order_does_not_matter() -> None:
    rng = np.random.default_rng(3)
    image = make_image(rng, (3, 5, 6), "float32")
    header = ImageHeader("ZYX", image.shape, "float32")
    boxes = [
        (slice(0, 2), slice(0, 5), slice(0, 6)),
        (slice(2, 3), slice(0, 3), slice(0, 6)),
        (slice(2, 3), slice(3, 5), slice(0, 6)),
    ]
    a = plain(run_tiled(image, header, {}, boxes))
    b = plain(run_tiled(image, header, {}, boxes[::-1]))
    assert a == b


def test_missing_chunk_is_detected() -> None:
    image, header = _zc_image()
    vr = finite_range(image)
    part = analyse_chunk(
        image[:1], (slice(0, 1), slice(None), slice(None), slice(None)), header, {}, PROCESSORS, vr
    )
    with pytest.raises(ValueError, match="do not tile"):
        finish_image([part], header, {}, PROCESSORS, vr)


def test_chunk_shape_must_match_region() -> None:
    image, header = _zc_image()
    with pytest.raises(ValueError, match="does not match region"):
        analyse_chunk(
            image, (slice(0, 1), slice(None), slice(None), slice(None)), header, {}, PROCESSORS
        )


def test_only_memory_processor_still_gives_all_rows() -> None:
    image, header = _zc_image()
    rows = process_image(image, header, {}, [Thumbnail()])
    assert rows["num_pixels"] == [48, 24, 24, 24, 24, 12, 12, 12, 12]
    assert "mean_intensity" not in rows and rows["thumbnail"][0] is not None


def test_merge_ranges() -> None:
    assert merge_ranges([None, (2, 5), (-1, 3), None]) == (-1, 5)
    assert merge_ranges([None, None]) is None
    assert finite_range(np.array([np.nan, np.inf, -np.inf])) is None
    assert finite_range(np.array([np.nan, 2.5, -np.inf, -1.0])) == (-1.0, 2.5)
    big = np.array([2**62 + 1, 2**62 + 3], dtype=np.int64)
    assert finite_range(big) == (2**62 + 1, 2**62 + 3)


def test_columns_for_lists_engine_columns_in_output_order() -> None:
    procs = [RasterBasic(), RasterHistogram(), Thumbnail()]
    names = [c.name for c in columns_for(procs, {"Y": 16})]
    assert names[:7] == ["obs_level", "dim_z", "dim_t", "dim_c", "dim_s", "dim_y", "Z_size"]
    assert "dim_x" not in names
    assert names[-4:] == [
        "thumbnail",
        "thumbnail_norm_min",
        "thumbnail_norm_max",
        "thumbnail_dtype",
    ]
    image, header = _zc_image()
    rows = process_image(image, header, {"Y": 16}, procs)
    assert set(rows) <= set(names)


def test_histogram_rows_are_int64_arrays_of_256() -> None:
    image, header = _zc_image()
    rows = process_image(image, header, {}, PROCESSORS)
    first = rows["histogram_counts"][0]
    assert isinstance(first, np.ndarray) and first.dtype == np.int64 and first.shape == (256,)
    assert int(first.sum()) == 48
