"""Scans of a tile of a plane for both ``raster-compression`` metrics, as mergeable partials.

A tile is a region of a plane given with a halo: ``plane_with_halo`` holds the tile's own
pixels (``own_region``) and the pixels around them that the metrics read, ``SUPPORT`` (6) on
each side, fewer only where the plane ends. Every term is attributed to one own pixel and
computed from plane coordinates (the 8-pixel grid, the plane border), so the partials of any
tiling of a plane merge into exactly the partials of the whole plane.

The ringing sums are needed only for the strong edge sites, which are known once the
strength histogram of the whole plane is: :func:`plane_partials` scans a whole plane twice
(count, then sum the strong bins only); a tiler can do the same with ``summed_from``.
"""

from __future__ import annotations

import math

import numpy as np

from pixel_patrol_image._blocking import SUPPORT as BLOCKING_SUPPORT
from pixel_patrol_image._blocking import BlockingPartials
from pixel_patrol_image._compression_loops import (
    BIN_SHIFT,
    BINS,
    SUPPORT,
    derive,
    measure,
    scan,
)
from pixel_patrol_image._jit import kernel_input
from pixel_patrol_image._ringing import RingingPartials, strong_bin
from pixel_patrol_image._sites import RING

WHOLE = (slice(None), slice(None))


class Scratch:
    """Buffers reused from one scan to the next (the histogram is left zeroed after a scan)."""

    def __init__(self) -> None:
        self.hist = np.zeros((5, BINS))  # counted sites, summed sites, ripple, ripple², step
        self.maps: dict[type, np.ndarray] = {}
        self.found = np.zeros(0, np.uint8)
        self.touched = np.array([BINS, 0], np.int64)  # bins written since the last take
        self.ring = np.zeros((2, RING, 0), np.float32)  # excess rows (see _sites.excess_rows)
        self.tags = np.full((2, RING), -1, np.int64)
        self.sites = np.zeros((2, 1), np.int64)  # columns of X and Y sites of a row

    def fit(self, x: np.ndarray) -> np.ndarray:
        """The ``(2, *x.shape)`` derivative maps for region ``x`` (in :func:`exact_type`)."""
        if len(self.found) < x.shape[1] + 8:  # whole 8-byte words, zero beyond the row
            self.found = np.zeros(-(-(x.shape[1] + 8) // 8) * 8, np.uint8)
        if self.ring.shape[2] < x.shape[1]:
            self.ring = np.zeros((2, RING, x.shape[1]), np.float32)
            self.sites = np.zeros((2, x.shape[1] + 1), np.int64)
        work = exact_type(x.dtype)
        size = 2 * x.shape[0] * x.shape[1]
        flat = self.maps.get(work)
        if flat is None or len(flat) < size:  # one buffer for every region and strip shape
            flat = self.maps[work] = np.zeros(size, work)
        return flat[:size].reshape(2, *x.shape)  # C-contiguous, as the compiled loops expect


def exact_type(dtype: np.dtype) -> type:
    """float32 for pixel types whose Sobel sums float32 holds exactly (8/16-bit), else float64."""
    return np.float32 if dtype.kind in "biu" and dtype.itemsize <= 2 else np.float64


SHIFTS = {np.float32: (19, (1023 - 127) << 4), np.float64: (BIN_SHIFT, 0)}
"""Bits of a non-negative float32 (float64) derivative to its float64 strength bin."""


def scan_region(
    plane_with_halo: np.ndarray,
    own_region: tuple[slice, slice],
    global_offset: tuple[int, int],
    plane_shape: tuple[int, int],
    scratch: Scratch | None = None,
    ringing: bool = True,
    summed_from: int = 0,
) -> tuple[BlockingPartials, RingingPartials]:
    """Blocking and ringing partials of the own pixels of a tile.

    Parameters
    ----------
    plane_with_halo
        2-D region of the plane, any real dtype (bool counts as 0/1).
    own_region
        ``(rows, columns)`` slices of ``plane_with_halo`` with the tile's own pixels.
    global_offset
        Plane coordinates ``(row, column)`` of ``plane_with_halo[0, 0]``.
    plane_shape
        ``(height, width)`` of the whole plane.
    scratch
        Reusable buffers (a fresh set when omitted).
    ringing
        False to skip the edge sites (then a one-pixel halo is enough).
    summed_from
        Measure the ripple only of sites in strength bins from this one on (sites are
        counted regardless). 0 measures all; a tiler that knows the plane's strong bin (a
        first pass with ``summed_from=BINS``, merged, then
        :func:`pixel_patrol_image._ringing.strong_bin`) saves most of that work.
    """
    x, own, s = _prepare(plane_with_halo, own_region, global_offset, plane_shape, ringing, scratch)
    origin, shape = _ints(global_offset), _ints(plane_shape)
    blocking = np.zeros(4)
    for part, part_own, part_origin in _strips(x, own, origin, SUPPORT if ringing else 1):
        maps = _first_pass(part, part_own, part_origin, shape, s, ringing, blocking)
        if ringing and summed_from < BINS:
            _measure(part, part_own, part_origin, shape, s, maps, summed_from)
    block = BlockingPartials(*(float(v) for v in blocking))
    if not ringing:
        return block, RingingPartials.empty()
    return block, _take(s, summed_from)


STRIP_ROWS = 128
"""Own rows a region is scanned in at a time: the derivative maps of a strip of a 2 Mpx tile
(a few MB) stay in the cache between the passes that write and read them, where those of
the whole tile (16 MB) do not."""


def _strips(
    x: np.ndarray, own: tuple[int, int, int, int], origin: tuple[int, int], halo: int
) -> list[tuple[np.ndarray, tuple[int, int, int, int], tuple[int, int]]]:
    """The region cut into strips of ``STRIP_ROWS`` own rows with their halo rows: each
    strip's view, own bounds and plane origin. Every term belongs to one own pixel and the
    strips are visited top to bottom, so the sums add up in the very order of one scan of
    the whole region (the same bits)."""
    r0, r1, c0, c1 = own
    out = []
    for a in range(r0, r1, STRIP_ROWS):
        b = min(a + STRIP_ROWS, r1)
        top, bottom = max(0, a - halo), min(x.shape[0], b + halo)
        out.append((x[top:bottom], (a - top, b - top, c0, c1), (origin[0] + top, origin[1])))
    return out


def measure_region(
    plane_with_halo: np.ndarray,
    own_region: tuple[slice, slice],
    global_offset: tuple[int, int],
    plane_shape: tuple[int, int],
    scratch: Scratch | None,
    summed_from: int,
) -> RingingPartials:
    """The second pass of a tiler: ripple sums of the sites in bins from ``summed_from`` on.

    The arguments are those of :func:`scan_region`. Unlike a second :func:`scan_region`, it
    neither counts the sites nor sums the blocking steps again (the first pass did): the
    partials' ``counts`` are zero, and the caller adds the first pass's counts to them.
    """
    x, own, s = _prepare(plane_with_halo, own_region, global_offset, plane_shape, True, scratch)
    if summed_from < BINS:
        origin, shape = _ints(global_offset), _ints(plane_shape)
        for part, part_own, part_origin in _strips(x, own, origin, SUPPORT):
            maps = s.fit(part)
            if derive(part, part_own, part_origin, shape, maps.dtype.type(1), maps):
                _measure(part, part_own, part_origin, shape, s, maps, summed_from)
    return _take(s, summed_from)


def plane_partials(
    plane: np.ndarray, scratch: Scratch | None = None
) -> tuple[BlockingPartials, RingingPartials]:
    """Partials of a whole plane, the ripple measured only for its strong sites."""
    x, own, s = _prepare(plane, WHOLE, (0, 0), plane.shape, True, scratch)
    shape = _ints(x.shape)
    blocking = np.zeros(4)
    maps = _first_pass(x, own, (0, 0), shape, s, True, blocking)
    block = BlockingPartials(*blocking.tolist())
    lo, hi = s.touched.tolist()
    first = strong_bin(s.hist[0, lo:hi], lo) if hi > lo else None
    summed_from = BINS if first is None else first
    if first is not None:
        _measure(x, own, (0, 0), shape, s, maps, first)
    return block, _take(s, summed_from)


def _ints(pair: tuple[int, ...]) -> tuple[int, int]:
    return int(pair[0]), int(pair[1])


def _first_pass(
    x: np.ndarray, own: tuple[int, int, int, int], origin: tuple[int, int],
    shape: tuple[int, int], s: Scratch, ringing: bool, blocking: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Blocking sums (added to ``blocking``), the derivative maps (returned) and the
    strength histogram of the counted rows."""
    maps = s.fit(x)
    work = maps.dtype.type
    bits = maps.view(np.int32 if work is np.float32 else np.int64)
    scan(
        x, own, origin, shape, ringing, work(1), maps, bits, SHIFTS[work],
        s.found,
        s.hist, s.touched, blocking,
    )  # fmt: skip
    return maps


def _measure(
    x: np.ndarray, own: tuple[int, int, int, int], origin: tuple[int, int],
    shape: tuple[int, int], s: Scratch, maps: np.ndarray, first: int,
) -> None:  # fmt: skip
    """Ripple sums of the sites in bins from ``first`` on (their strength at least the bin's
    lower edge)."""
    work = maps.dtype.type
    bits = maps.view(np.int32 if work is np.float32 else np.int64)
    floor = float(np.array([first << BIN_SHIFT], np.int64).view(np.float64)[0])
    screen = work(floor)
    if float(screen) > floor:  # float32 rounded up: one step down keeps every site
        screen = np.nextafter(screen, work(-np.inf))
    limit = work(floor)  # the least map value >= floor: the same test in the maps' type
    if float(limit) < floor:
        limit = np.nextafter(limit, work(np.inf))
    measure(
        x, own, origin, shape, maps, bits, SHIFTS[work], limit, screen, s.found, s.hist, s.touched,
        (s.ring, s.tags, s.sites),
    )  # fmt: skip


def _take(s: Scratch, summed_from: int) -> RingingPartials:
    """Copy the touched bins out of the scratch histogram and zero them there."""
    lo, hi = s.touched.tolist()
    s.touched[:] = (BINS, 0)
    if hi <= lo:
        return RingingPartials.empty(summed_from)
    counts, used, ripple, squares, steps = s.hist[:, lo:hi].copy()
    s.hist[:, lo:hi] = 0.0
    return RingingPartials(
        lo, counts.astype(np.int64), used.astype(np.int64), ripple, squares, steps, summed_from
    )


EXTREME_EXPONENT = 1000
"""Float regions with a finite magnitude beyond 2**1000, or none above 2**-1000, are rescaled."""
RESCALE = 128
"""The power of two they are scaled by: far enough from both ends of float64 that Sobel sums
neither overflow nor fall into subnormals."""


def working_values(x: np.ndarray) -> np.ndarray:
    """A region in a type and range the compiled scan handles. Both metrics are ratios, unchanged
    by an offset or a power-of-two scale, so this changes no value beyond float rounding.

    * bool counts as 0/1, 8-bit integers become 16-bit ones (:func:`~pixel_patrol_image._jit.kernel_input`)
      and float16 becomes float32 (exact; the scan has no half type);
    * 64-bit integers become float64 differences from the region's minimum, formed exactly in
      unsigned arithmetic (steps between values near 2**63 would overflow int64);
    * float64 regions whose largest finite magnitude lies beyond 2**1000 are scaled by
      2**-RESCALE, those whose largest is below 2**-1000 (subnormal data) by 2**RESCALE: exact,
      and the same fixed factor for every region of such a plane, so tiles still merge.
    """
    if x.dtype.itemsize == 1:
        return kernel_input(x)
    if x.dtype == np.float16:
        return x.astype(np.float32)
    if x.dtype.kind in "iu" and x.dtype.itemsize == 8:
        u = x.view(np.uint64) ^ np.uint64(1 << 63) if x.dtype.kind == "i" else x
        return (u - u.min()).astype(np.float64) if u.size else u.astype(np.float64)
    if x.dtype == np.float64 and x.size:  # float32 data are safe in the float64 scan
        top = _largest_finite(x)
        if top > 0.0 and abs(math.frexp(top)[1]) > EXTREME_EXPONENT:
            shift = -RESCALE if top > 1.0 else RESCALE
            return np.ldexp(x.astype(np.float64), shift)
    return x


def _largest_finite(x: np.ndarray) -> float:
    """The largest finite magnitude in ``x`` (0 when there is none); two cheap reductions when
    every value is finite."""
    top = max(abs(float(x.min())), abs(float(x.max())))
    if math.isfinite(top):
        return top
    with np.errstate(invalid="ignore"):
        return float(np.max(np.abs(x), where=np.isfinite(x), initial=0.0))


def _prepare(
    plane_with_halo: np.ndarray,
    own_region: tuple[slice, slice],
    origin: tuple[int, int],
    plane: tuple[int, int],
    ringing: bool,
    scratch: Scratch | None,
) -> tuple[np.ndarray, tuple[int, int, int, int], Scratch]:
    """The region as a real array, the own bounds ``(r0, r1, c0, c1)`` after checking that
    the halo is complete, and the scratch buffers."""
    x = working_values(plane_with_halo)
    if x.ndim != 2:
        raise ValueError(f"need a 2-D region, got shape {x.shape}")
    (r0, r1, _), (c0, c1, _) = (s.indices(n) for s, n in zip(own_region, x.shape, strict=True))
    need = SUPPORT if ringing else BLOCKING_SUPPORT
    for lo, hi, start, n, total in ((r0, r1, origin[0], x.shape[0], plane[0]),
                                    (c0, c1, origin[1], x.shape[1], plane[1])):  # fmt: skip
        if start < 0 or start + n > total or hi < lo:
            raise ValueError("region lies outside the plane")
        if lo < min(need, start + lo) or n - hi < min(need, total - (start + hi)):
            raise ValueError(f"the halo around the own region must be {need} pixels")
    return x, (r0, r1, c0, c1), scratch or Scratch()
