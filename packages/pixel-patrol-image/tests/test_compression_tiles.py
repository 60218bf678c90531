"""raster-compression partials of any tiling of a plane merge into the whole plane's values.

Tiles carry a halo of the metrics' support (6 pixels; 1 for blocking alone); the block grid
and the plane border are taken in plane coordinates, so merging the partials of the tiles
gives the same sums, the same strength histogram and hence the same values as one scan.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from image_metrics_testkit import gibbs, jpeg, natural, sharp_cells

from pixel_patrol_image import _blocking, _ringing
from pixel_patrol_image._compression_loops import BINS
from pixel_patrol_image._tiles import plane_partials, scan_region

SUPPORT = _ringing.SUPPORT
WHOLE = (slice(None), slice(None))


def plane(seed: int, h: int, w: int, dtype: str, holes: bool) -> np.ndarray:
    """Steps, a ripple beside them, noise; NaN/Inf holes for floats when ``holes``."""
    rng = np.random.default_rng(seed)
    x = np.zeros((h, w))
    for _ in range(3):
        r, c = rng.integers(0, max(h, 1)), rng.integers(0, max(w, 1))
        x[r:, c:] += rng.uniform(-120, 120)
    x += 8 * np.sin(np.arange(w) * rng.uniform(0.5, 3))[None] + rng.normal(0, 2, (h, w))
    x -= x.min() if x.size else 0
    if np.dtype(dtype).kind == "f":
        x = x.astype(dtype)
        if holes and x.size:
            x.flat[rng.integers(0, x.size, 1 + x.size // 50)] = rng.choice([np.nan, np.inf])
        return x
    return np.clip(np.round(x), 0, np.iinfo(dtype).max).astype(dtype)


def cuts(draw: st.DrawFn, n: int) -> list[int]:
    inner = draw(st.lists(st.integers(1, max(n - 1, 1)), max_size=4, unique=True))
    return [0, *sorted(c for c in inner if 0 < c < n), n]


@st.composite
def tilings(draw: st.DrawFn) -> tuple[np.ndarray, list[int], list[int]]:
    h, w = draw(st.integers(1, 60)), draw(st.integers(1, 60))
    dtype = draw(st.sampled_from(["uint8", "uint16", "int16", "float32", "float64"]))
    x = plane(draw(st.integers(0, 2**16)), h, w, dtype, draw(st.booleans()))
    return x, cuts(draw, h), cuts(draw, w)


def tiled(
    x: np.ndarray, rows: list[int], cols: list[int], halo: int, ringing: bool = True, **kw: int
) -> tuple[_blocking.BlockingPartials, _ringing.RingingPartials]:
    blocks, rings = [], []
    for r0, r1 in itertools.pairwise(rows):
        for c0, c1 in itertools.pairwise(cols):
            y0, x0 = max(r0 - halo, 0), max(c0 - halo, 0)
            region = x[y0 : min(r1 + halo, x.shape[0]), x0 : min(c1 + halo, x.shape[1])]
            own = (slice(r0 - y0, r1 - y0), slice(c0 - x0, c1 - x0))
            b, r = scan_region(region, own, (y0, x0), x.shape, ringing=ringing, **kw)
            blocks.append(b)
            rings.append(r)
    return _blocking.merge(*blocks), _ringing.merge(*rings)


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-6, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(tilings())
def test_any_tiling_gives_the_whole_plane_values(case: tuple) -> None:
    x, rows, cols = case
    block, ring = scan_region(x, WHOLE, (0, 0), x.shape)
    t_block, t_ring = tiled(x, rows, cols, SUPPORT)
    assert np.array_equal(t_ring.counts, ring.counts) and t_ring.first_bin == ring.first_bin
    assert np.allclose(t_ring.ripple, ring.ripple, rtol=1e-12, atol=1e-9)
    assert (t_block.on_count, t_block.off_count) == (block.on_count, block.off_count)
    assert same(_ringing.finalize(t_ring), _ringing.finalize(ring))
    assert same(_blocking.finalize(t_block), _blocking.finalize(block))
    only_blocking, _ = tiled(x, rows, cols, 1, ringing=False)
    assert same(_blocking.finalize(only_blocking), _blocking.finalize(block))
    # the two-pass use: count everywhere, find the strong bin, sum only from there
    _, counted = tiled(x, rows, cols, SUPPORT, summed_from=BINS)
    first = _ringing.strong_bin(counted.counts, counted.first_bin)
    if first is not None:
        _, strong = tiled(x, rows, cols, SUPPORT, summed_from=first)
        assert same(_ringing.finalize(strong), _ringing.finalize(ring))
        assert same(_ringing.finalize(plane_partials(x)[1]), _ringing.finalize(ring))
        if first > 0:
            with pytest.raises(ValueError, match="strong"):
                _ringing.finalize(counted)


@pytest.mark.parametrize("kind", ["jpeg", "gibbs"])
def test_a_tiling_of_a_real_plane_keeps_both_values(kind: str) -> None:
    if kind == "jpeg":
        x = jpeg(natural("camera")[100:300, 150:320], 30)
    else:
        x = np.round(gibbs(sharp_cells(0, 200), 0.5) * 100 + 500).astype(np.uint16)[:, :170]
    block, ring = scan_region(x, WHOLE, (0, 0), x.shape)
    assert _ringing.finalize(ring) > 0 and _blocking.finalize(block) > 0
    t_block, t_ring = tiled(x, [0, 13, 64, 65, 200], [0, 7, 8, 100, 170], SUPPORT)
    assert _ringing.finalize(t_ring) == pytest.approx(_ringing.finalize(ring), rel=1e-12)
    assert _blocking.finalize(t_block) == pytest.approx(_blocking.finalize(block), rel=1e-12)


def test_the_public_partials_functions_agree_with_the_scan() -> None:
    x = plane(3, 40, 50, "float64", True)
    own, origin = (slice(6, 26), slice(6, 30)), (4, 0)
    region = x[4:36, 0:36]  # own rows 10..29, columns 6..29 of the plane, with a full halo
    b, r = scan_region(region, own, origin, x.shape)
    assert _blocking.blocking_partials(region, own, origin, x.shape) == b
    got = _ringing.ringing_partials(region, own, origin, x.shape)
    assert got.first_bin == r.first_bin and np.array_equal(got.counts, r.counts)


def test_a_short_halo_is_refused() -> None:
    x = np.zeros((40, 40))
    with pytest.raises(ValueError, match="halo"):
        scan_region(x[10:30, 10:30], (slice(2, 18), slice(6, 14)), (10, 10), x.shape)
    with pytest.raises(ValueError, match="outside"):
        scan_region(x, WHOLE, (5, 0), x.shape)
