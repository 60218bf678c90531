"""Property tests: every row equals numpy on that row's pixels, whatever the chunking."""

from __future__ import annotations

from typing import Any
from unittest import mock

import numpy as np
from engine_testkit import (
    DIM_ORDERS,
    DTYPES,
    PROCESSORS,
    expected_basic,
    expected_histogram,
    grid_tiling,
    make_image,
    plain,
    row_box,
    run_tiled,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixel_patrol_base.contracts import ImageHeader
from pixel_patrol_base.engine import process_image

EXTENT = {"T": (1, 3), "Z": (1, 4), "C": (1, 3), "Y": (1, 6), "X": (1, 7), "S": (3, 4)}
SLICE_CHOICES = {
    "T": [1, 2, -1],
    "Z": [1, 2, 3, -1],
    "C": [1, 2, -1],
    "S": [1, 2, -1],
    "Y": [-1, 2, 3],
    "X": [-1, 1, 4],
}

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def cases(draw: st.DrawFn) -> tuple[np.ndarray, ImageHeader, dict[str, int], int]:
    """A random image (dim order, dtype, shape, pixels) with a random --slice-size."""
    dim_order = draw(st.sampled_from(DIM_ORDERS))
    dtype = draw(st.sampled_from(DTYPES))
    shape = tuple(draw(st.integers(*EXTENT[a])) for a in dim_order)
    slice_size = {
        a: draw(st.sampled_from(SLICE_CHOICES[a])) for a in dim_order if draw(st.booleans())
    }
    seed = draw(st.integers(0, 2**32 - 1))
    image = make_image(np.random.default_rng(seed), shape, dtype)
    return image, ImageHeader(dim_order, shape, dtype), slice_size, seed


def _scale(image: np.ndarray) -> float:
    """Largest finite magnitude: float64 rounding of means and stds is relative to it."""
    finite = image[np.isfinite(image)] if image.dtype.kind == "f" else image
    return float(np.abs(finite.astype(np.float64)).max()) if finite.size else 1.0


def _close(got: Any, want: Any, scale: float) -> bool:
    if want is None or got is None:
        return got is want
    return abs(got - want) <= 1e-9 * max(abs(want), scale)


@FAST
@given(cases())
def test_every_row_equals_numpy_on_its_pixels(
    case: tuple[np.ndarray, ImageHeader, dict[str, int], int],
) -> None:
    image, header, slice_size, _ = case
    rows = plain(process_image(image, header, slice_size, PROCESSORS))
    scale = _scale(image)
    for i in range(len(rows["obs_level"])):
        px = image[row_box(rows, i, header.dim_order)]
        assert rows["num_pixels"][i] == px.size
        basic = expected_basic(px)
        assert rows["min_intensity"][i] == basic["min"]
        assert rows["max_intensity"][i] == basic["max"]
        assert rows["finite_pixel_count"][i] == basic["count"]
        assert rows["count_at_max"][i] == basic["at_max"]
        assert rows["count_at_min"][i] == basic["at_min"]
        assert _close(rows["mean_intensity"][i], basic["mean"], scale)
        assert _close(rows["std_intensity"][i], basic["std"], scale)
        lo, hi, nan, counts = expected_histogram(px, image)
        assert (rows["histogram_min"][i], rows["histogram_max"][i]) == (lo, hi)
        assert rows["histogram_nan_count"][i] == nan
        assert rows["histogram_counts"][i] == counts
        assert sum(counts) + nan == px.size


@FAST
@given(cases())
def test_results_do_not_depend_on_memory_chunks(
    case: tuple[np.ndarray, ImageHeader, dict[str, int], int],
) -> None:
    image, header, slice_size, seed = case
    whole = plain(process_image(image, header, slice_size, PROCESSORS))
    boxes = grid_tiling(np.random.default_rng(seed + 1), header.shape)
    tiled = plain(run_tiled(image, header, slice_size, boxes))
    assert tiled.keys() == whole.keys()
    scale = _scale(image)
    for name, values in whole.items():
        if name in ("mean_intensity", "std_intensity"):
            for got, want in zip(tiled[name], values, strict=True):
                assert (got is None) == (want is None), name
                if want is not None:
                    assert abs(got - want) <= 1e-12 * max(abs(want), scale), name
        else:
            assert tiled[name] == values, name


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.integers(1, 40))
def test_tiny_stacks_and_pieces_give_the_same_rows(
    case: tuple[np.ndarray, ImageHeader, dict[str, int], int], limit: int
) -> None:
    image, header, slice_size, _ = case
    whole = plain(process_image(image, header, slice_size, PROCESSORS))
    with (
        mock.patch("pixel_patrol_base.blocks.STACK_ELEMENTS", limit),
        mock.patch("pixel_patrol_base.processors._pixels.PIECE_ELEMENTS", limit),
    ):
        small = plain(process_image(image, header, slice_size, PROCESSORS))
    scale = _scale(image)
    for name, values in whole.items():
        if name in ("mean_intensity", "std_intensity"):
            for got, want in zip(small[name], values, strict=True):
                assert (got is None) == (want is None), name
                if want is not None:
                    assert abs(got - want) <= 1e-12 * max(abs(want), scale), name
        else:
            assert small[name] == values, name


def test_row_count_is_product_of_blocks_plus_one() -> None:
    image = np.zeros((2, 3, 4, 5, 6), dtype=np.uint8)
    rows = process_image(image, ImageHeader("TZCYX", image.shape, "uint8"), {"C": 3}, PROCESSORS)
    # T: 2 blocks, Z: 3 blocks, C: blocks of 3 -> 2 blocks (0 and 3, the last one short)
    assert len(rows["obs_level"]) == (2 + 1) * (3 + 1) * (2 + 1)
    assert sorted({v for v in rows["dim_c"] if v is not None}) == [0, 3]
    assert {rows["C_size"][i] for i, v in enumerate(rows["dim_c"]) if v == 3} == {1}
