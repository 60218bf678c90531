"""One scan of a tile of a plane for both ``raster-compression`` metrics, as mergeable partials.

A tile is a region of a plane given with a halo: ``plane_with_halo`` holds the tile's own
pixels (``own_region``) and the pixels around them that the metrics read, at most ``SUPPORT``
(6) on each side, fewer only where the plane ends. Every term is attributed to one own pixel
and computed from global coordinates (the 8-pixel grid, the plane border), so the partials of
any tiling of a plane merge into exactly the partials of the whole plane.
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_image._blocking import BlockingPartials
from pixel_patrol_image._blocking import SUPPORT as BLOCKING_SUPPORT
from pixel_patrol_image._compression_loops import BINS, SUPPORT, scan
from pixel_patrol_image._ringing import RingingPartials


class Scratch:
    """Buffers reused from one scan to the next (the histogram is left zeroed after a scan)."""

    def __init__(self) -> None:
        self.counts = np.zeros(BINS, np.int64)
        self.ripple = np.zeros(BINS)
        self.squares = np.zeros(BINS)
        self.steps = np.zeros(BINS)
        self.grad: np.ndarray = np.zeros((2, 0, 0))

    def gradients(self, shape: tuple[int, ...]) -> np.ndarray:
        """``(2, *shape)`` float64 buffer for the two derivative maps."""
        if self.grad.shape[1:] != shape:
            self.grad = np.zeros((2, *shape))
        return self.grad


def scan_region(
    plane_with_halo: np.ndarray,
    own_region: tuple[slice, slice],
    global_offset: tuple[int, int],
    plane_shape: tuple[int, int],
    scratch: Scratch | None = None,
    sites: bool = True,
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
    sites
        False to skip the ringing scan (then a one-pixel halo is enough).
    """
    x = plane_with_halo.view(np.uint8) if plane_with_halo.dtype == np.bool_ else plane_with_halo
    own = _own_bounds(x.shape, own_region, global_offset, plane_shape, sites)
    s = scratch or Scratch()
    grad = s.gradients(x.shape)
    bounds = np.array([np.iinfo(np.int64).max, -1], np.int64)
    blocking = np.zeros(4)
    scan(
        x, own, tuple(global_offset), tuple(plane_shape), sites,
        grad[0], grad[1], s.counts, s.ripple, s.squares, s.steps, bounds, blocking,
    )  # fmt: skip
    return BlockingPartials(*(float(v) for v in blocking)), _take(s, bounds)


def _take(s: Scratch, bounds: np.ndarray) -> RingingPartials:
    """Copy the touched bins out of the scratch histogram and zero them there."""
    lo, hi = int(bounds[0]), int(bounds[1]) + 1
    if hi <= lo:
        return RingingPartials.empty()
    arrays = (s.counts, s.ripple, s.squares, s.steps)
    out = RingingPartials(lo, *(a[lo:hi].copy() for a in arrays))
    for a in arrays:
        a[lo:hi] = 0
    return out


def _own_bounds(
    shape: tuple[int, ...],
    own_region: tuple[slice, slice],
    origin: tuple[int, int],
    plane: tuple[int, int],
    sites: bool,
) -> tuple[int, int, int, int]:
    """``(r0, r1, c0, c1)`` of the own pixels, after checking that the halo is complete."""
    if len(shape) != 2:
        raise ValueError(f"need a 2-D region, got shape {shape}")
    (r0, r1, _), (c0, c1, _) = (s.indices(n) for s, n in zip(own_region, shape, strict=True))
    need = SUPPORT if sites else BLOCKING_SUPPORT
    for lo, hi, start, n, total in ((r0, r1, origin[0], shape[0], plane[0]),
                                    (c0, c1, origin[1], shape[1], plane[1])):  # fmt: skip
        if start < 0 or start + n > total or hi < lo:
            raise ValueError("region lies outside the plane")
        if lo < min(need, start + lo) or n - hi < min(need, total - (start + hi)):
            raise ValueError(f"the halo around the own region must be {need} pixels")
    return r0, r1, c0, c1
