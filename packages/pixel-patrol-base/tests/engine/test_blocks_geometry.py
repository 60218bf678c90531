"""Leaf-block geometry: slice sizes, row axes, runs of equal pieces."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixel_patrol_base.blocks import (
    EmptyImageError,
    LeafGrid,
    axis_runs,
    block_sizes,
    tiled_plane_axes,
)
from pixel_patrol_base.contracts import ImageHeader
from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.regions import normalise_region


@pytest.mark.parametrize(
    ("dim_order", "shape", "slice_size", "want"),
    [
        ("TCZYX", (2, 3, 4, 5, 6), {}, (1, 1, 1, 5, 6)),
        ("ZYX", (12, 5, 6), {"Z": 5}, (5, 5, 6)),
        ("ZYX", (3, 5, 6), {"Z": -1, "Y": 2}, (3, 2, 6)),
        ("YXS", (5, 6, 3), {"S": -1}, (5, 6, 3)),
        ("ZYX", (3, 5, 6), {"Z": 100, "Q": 3}, (3, 5, 6)),
    ],
    ids=["default", "z5", "z-full-y2", "rgb-together", "clamped-and-unknown-letter"],
)
def test_block_sizes(
    dim_order: str, shape: tuple[int, ...], slice_size: dict[str, int], want: tuple[int, ...]
) -> None:
    assert block_sizes(dim_order, shape, slice_size) == want


def test_row_axes_follow_z_t_c_s_then_tiled_plane() -> None:
    header = ImageHeader("TCZYXS", (2, 2, 2, 8, 8, 3), "uint8")
    grid = LeafGrid.from_header(header, {"X": 4})
    assert [grid.dim_order[a] for a in grid.row_axes] == ["Z", "T", "C", "S", "X"]
    assert grid.n_blocks == (2, 2, 2, 1, 2, 3)
    assert tiled_plane_axes({"X": 4, "Y": -1}) == "X"


def test_memory_split_of_the_plane_never_makes_rows() -> None:
    grid = LeafGrid.from_header(ImageHeader("YX", (100, 100), "uint8"), {})
    assert grid.row_axes == ()


def test_zero_length_axis() -> None:
    with pytest.raises(EmptyImageError, match="Z=0"):
        LeafGrid.from_header(ImageHeader("ZYX", (0, 2, 2), "uint8"), {})


def test_bad_slice_size() -> None:
    with pytest.raises(SettingsError):
        block_sizes("YX", (2, 2), {"X": 0})


def test_runs_cut_at_global_block_multiples() -> None:
    runs = axis_runs(3, 17, 5)  # pieces 3-5, 5-10, 10-15, 15-17
    assert [(r.offset, r.start, r.length, r.count) for r in runs] == [
        (0, 3, 2, 1),
        (2, 5, 5, 2),
        (12, 15, 2, 1),
    ]


def test_normalise_region() -> None:
    assert normalise_region(None, (3, 4)) == ((0, 3), (0, 4))
    assert normalise_region((slice(1, None), slice(None, 2)), (3, 4)) == ((1, 3), (0, 2))
    with pytest.raises(ValueError, match="non-empty box"):
        normalise_region((slice(2, 2), slice(None)), (3, 4))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 60), st.integers(1, 40), st.integers(1, 12))
def test_runs_tile_the_range_with_at_most_three_runs(start: int, length: int, block: int) -> None:
    stop = start + length
    runs = axis_runs(start, stop, block)
    assert len(runs) <= 3
    pieces = [
        (r.start + i * r.length, r.start + (i + 1) * r.length) for r in runs for i in range(r.count)
    ]
    assert pieces[0][0] == start and pieces[-1][1] == stop
    assert all(a[1] == b[0] for a, b in itertools.pairwise(pieces))
    assert all(a // block == (b - 1) // block for a, b in pieces)  # never crosses a block edge
