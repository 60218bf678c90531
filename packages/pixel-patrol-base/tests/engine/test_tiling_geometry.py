"""Tile geometry: tiles partition the plane, read boxes are own boxes grown by the halo."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pixel_patrol_base.planning import chunk_regions, chunk_shape
from pixel_patrol_base.tiling import box_pixels, grow, halo_bounds, plane_tiles, split


@st.composite
def planes(draw: st.DrawFn) -> tuple[tuple[int, int, int, int], tuple[int, int], int, int]:
    h, w = draw(st.integers(1, 60)), draw(st.integers(1, 60))
    y0 = draw(st.integers(0, h - 1))
    x0 = draw(st.integers(0, w - 1))
    own = (y0, draw(st.integers(y0 + 1, h)), x0, draw(st.integers(x0 + 1, w)))
    return own, (h, w), draw(st.integers(0, 5)), draw(st.integers(1, 2000))


@settings(max_examples=400, deadline=None)
@given(planes())
def test_tiles_partition_the_own_box_and_read_the_halo(case: tuple) -> None:
    own, (h, w), halo, limit = case
    tiles = plane_tiles(own, (0, h, 0, w), halo, limit)
    cover = np.zeros((h, w), dtype=np.int32)
    for t in tiles:
        y0, y1, x0, x1 = t.own
        cover[y0:y1, x0:x1] += 1
        assert t.read == grow(t.own, halo, (0, h, 0, w))
        if limit >= (1 + 2 * halo) ** 2:
            assert box_pixels(t.read) <= limit
    want = np.zeros((h, w), dtype=np.int32)
    want[own[0] : own[1], own[2] : own[3]] = 1
    assert (cover == want).all()


@given(st.integers(0, 50), st.integers(0, 50), st.integers(1, 60))
def test_split_cuts_into_near_equal_consecutive_ranges(a: int, n: int, parts: int) -> None:
    ranges = split(a, a + n, parts)
    if n == 0:
        assert ranges == [(a, a)]
        return
    assert ranges[0][0] == a and ranges[-1][1] == a + n
    assert all(r[1] == s[0] for r, s in itertools.pairwise(ranges))
    lengths = [b - c for c, b in ranges]
    assert max(lengths) - min(lengths) <= 1 and min(lengths) >= 1


def test_halo_bounds_grow_only_the_plane_axes() -> None:
    got = halo_bounds(((2, 3), (10, 20), (0, 5)), "ZYX", (4, 30, 5), 4)
    assert got == ((2, 3), (6, 24), (0, 5))


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["YX", "ZYX", "CYX", "YXS"]),
    st.integers(1, 90),
    st.integers(1, 90),
    st.sampled_from([1, 2, 4]),
    st.integers(0, 20),
    st.integers(1, 60_000),
)
def test_chunks_read_with_their_halo_stay_within_the_budget(
    order: str, h: int, w: int, item: int, halo: int, budget: int
) -> None:
    shape = tuple({"Y": h, "X": w}.get(a, 3) for a in order)
    chunk = chunk_shape(order, shape, item, {}, budget, halo)
    regions = chunk_regions(shape, chunk)
    cover = np.zeros(shape, dtype=np.int32)
    for r in regions:
        cover[tuple(slice(a, b) for a, b in r)] += 1
    assert (cover == 1).all()
    smallest = item * min(h, 1 + 2 * halo) * min(w, 1 + 2 * halo)  # one pixel and its halo
    for r in regions:
        read = halo_bounds(r, order, shape, halo)
        assert item * math.prod(b - a for a, b in read) <= max(budget, smallest)
