"""Tiles of a (Y, X) plane that carry a halo: pure integer geometry, no pixels.

A processor that needs neighbourhoods (a 7x7 filter window, a pixel's right neighbour)
declares its support as a halo radius. Planes larger than one piece of work, and planes that
a memory chunk cuts, are visited tile by tile: each tile has *own* pixels (the tiles of a
plane partition it, so every pixel counts once) and a *read box*, the own box grown by the
halo and clipped at the plane border. Inside the read box every own pixel sees the same
neighbours as on the whole plane, so per-pixel values do not depend on the tiling.

Boxes are ``(y0, y1, x0, x1)`` half-open ranges.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

Box = tuple[int, int, int, int]
"""``(y0, y1, x0, x1)``: rows ``y0 .. y1 - 1`` and columns ``x0 .. x1 - 1``."""


@dataclass(frozen=True, slots=True)
class TileBox:
    """One tile: the pixels it owns and the pixels it reads (own grown by the halo)."""

    own: Box
    read: Box


def box_pixels(box: Box) -> int:
    """Number of pixels in ``box`` (0 when empty)."""
    y0, y1, x0, x1 = box
    return max(0, y1 - y0) * max(0, x1 - x0)


def grow(box: Box, halo: int, limits: Box) -> Box:
    """``box`` grown by ``halo`` on every side and clipped to ``limits``."""
    y0, y1, x0, x1 = box
    ly0, ly1, lx0, lx1 = limits
    return max(ly0, y0 - halo), min(ly1, y1 + halo), max(lx0, x0 - halo), min(lx1, x1 + halo)


def split(start: int, stop: int, parts: int) -> list[tuple[int, int]]:
    """``[start, stop)`` cut into ``parts`` consecutive ranges whose lengths differ by at most 1."""
    n = stop - start
    parts = max(1, min(parts, n))
    cuts = [start + (n * k) // parts for k in range(parts + 1)]
    return [(a, b) for a, b in itertools.pairwise(cuts)]


def plane_tiles(own: Box, limits: Box, halo: int, max_pixels: int) -> list[TileBox]:
    """Tiles partitioning ``own`` whose read boxes hold at most ``max_pixels`` pixels.

    Full-width strips when a strip of one own row fits, a grid of near-square tiles
    otherwise. The bound holds whenever ``max_pixels >= (1 + 2 * halo) ** 2``; below that a
    tile owns a single pixel and reads its whole neighbourhood.

    Parameters
    ----------
    own
        The pixels to cover (inside ``limits``).
    limits
        The plane (reads never leave it).
    halo
        Neighbourhood radius in pixels.
    max_pixels
        Largest read box wanted.
    """
    y0, y1, x0, x1 = own
    if y1 <= y0 or x1 <= x0:
        return []
    if box_pixels(grow(own, halo, limits)) <= max_pixels:
        return [TileBox(own, grow(own, halo, limits))]
    width, height = x1 - x0, y1 - y0
    if (width + 2 * halo) * (1 + 2 * halo) <= max_pixels:
        columns = [(x0, x1)]
        span = width + 2 * halo
    else:
        side = max(1, math.isqrt(max_pixels) - 2 * halo)
        columns = split(x0, x1, -(-width // side))
        span = max(b - a for a, b in columns) + 2 * halo
    rows_per_tile = max(1, max_pixels // span - 2 * halo)
    rows = split(y0, y1, -(-height // rows_per_tile))
    return [
        TileBox(box, grow(box, halo, limits))
        for ry0, ry1 in rows
        for cx0, cx1 in columns
        for box in [(ry0, ry1, cx0, cx1)]
    ]


def halo_bounds(
    bounds: Sequence[tuple[int, int]], dim_order: str, shape: Sequence[int], halo: int
) -> tuple[tuple[int, int], ...]:
    """A memory chunk's ``(start, stop)`` per axis grown by ``halo`` along Y and X (clipped)."""
    out = []
    for (a, b), axis, extent in zip(bounds, dim_order, shape, strict=True):
        if axis in "YX":
            a, b = max(0, a - halo), min(int(extent), b + halo)
        out.append((a, b))
    return tuple(out)


__all__ = ["Box", "TileBox", "box_pixels", "grow", "halo_bounds", "plane_tiles", "split"]
