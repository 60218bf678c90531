"""Tiled processors in the engine: which planes run as plane programs, over which tiles.

A tiled processor (:class:`~pixel_patrol_base.contracts.TiledProcessor`) sees whole, small
planes through ``run`` like any leaf processor. A plane goes through its plane program instead

* when it has more than :data:`TILE_PIXELS` pixels: then every pass runs here, over tiles of
  the plane held in memory, so the processor's working memory is bounded by the tile size
  whatever the plane size; or
* when the memory chunk at hand holds only part of it (a plane larger than
  ``--mb-per-task``): then the passes before the last run as *survey rounds* over every
  chunk of the image (the coordinator merges the partials and advances the program), and
  the last pass's partials travel with the chunk results to :func:`finish_planes`.

A plane is the (Y, X) extent of one leaf block at one index of every other axis; it is named
by a :data:`PlaneKey`. Everything here is numpy and plain values, no Dask.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from pixel_patrol_base.blocks import LeafGrid
from pixel_patrol_base.contracts import ImageContext, PlaneProgram, PlaneTile, TiledProcessor
from pixel_patrol_base.rollup import Groups, aggregate
from pixel_patrol_base.tiling import Box, plane_tiles

TILE_PIXELS = 1 << 21
"""Largest read box (own pixels plus halo) of a tile: 2 Mpx, a few tens of MB of float32 maps."""

PlaneKey = tuple[str, tuple[int, ...]]
"""``(processor NAME, coordinates)``: the plane's index on every axis, Y and X set to the start
of its leaf block."""

Bounds = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class PlaneSpot:
    """Where one plane lies: its coordinates (see :data:`PlaneKey`) and leaf (Y, X) box."""

    coords: tuple[int, ...]
    box: Box


def yx_axes(dim_order: str) -> tuple[int, int]:
    """Indices of the Y and X axes."""
    return dim_order.index("Y"), dim_order.index("X")


def leaf_box(grid: LeafGrid, y: int, x: int) -> Box:
    """The leaf block's (Y, X) box (image coordinates) that holds row ``y`` and column ``x``."""
    iy, ix = yx_axes(grid.dim_order)
    by, bx = grid.block[iy], grid.block[ix]
    y0, x0 = (y // by) * by, (x // bx) * bx
    return y0, min(y0 + by, grid.shape[iy]), x0, min(x0 + bx, grid.shape[ix])


def spots(
    grid: LeafGrid, start: Sequence[int] | np.ndarray, size: Sequence[int] | np.ndarray
) -> Iterator[PlaneSpot]:
    """The planes of one leaf piece (a box inside a single leaf block)."""
    iy, ix = yx_axes(grid.dim_order)
    box = leaf_box(grid, int(start[iy]), int(start[ix]))
    ranges = [
        [box[0]] if a == iy else [box[2]] if a == ix else range(int(s), int(s) + int(n))
        for a, (s, n) in enumerate(zip(start, size, strict=True))
    ]
    for coords in itertools.product(*ranges):
        yield PlaneSpot(tuple(int(c) for c in coords), box)


def needs_program(
    grid: LeafGrid, start: Sequence[int] | np.ndarray, size: Sequence[int] | np.ndarray
) -> bool:
    """Whether the planes of a piece go through plane programs (too large, or cut)."""
    iy, ix = yx_axes(grid.dim_order)
    y0, y1, x0, x1 = leaf_box(grid, int(start[iy]), int(start[ix]))
    whole = (int(start[iy]), int(start[ix])) == (y0, x0) and (
        int(size[iy]),
        int(size[ix]),
    ) == (y1 - y0, x1 - x0)
    return not whole or (y1 - y0) * (x1 - x0) > TILE_PIXELS


def plane_view(array: np.ndarray, read: Bounds, spot: PlaneSpot, dim_order: str) -> np.ndarray:
    """2-D (Y, X) view of ``spot``'s plane inside an array holding the box ``read``."""
    iy, ix = yx_axes(dim_order)
    index: list[Any] = [
        slice(None) if a in (iy, ix) else spot.coords[a] - read[a][0] for a in range(len(read))
    ]
    view = array[tuple(index)]
    result: np.ndarray = view if iy < ix else view.T
    return result


def tiles(
    array: np.ndarray, read: Bounds, own: Bounds, spot: PlaneSpot, dim_order: str, halo: int
) -> Iterator[PlaneTile]:
    """Tiles of ``spot``'s plane covering its pixels inside ``own``, halos read from ``array``.

    Raises
    ------
    ValueError
        When ``array`` (the box ``read``) lacks pixels of a halo inside the plane.
    """
    iy, ix = yx_axes(dim_order)
    py0, py1, px0, px1 = spot.box
    view = plane_view(array, read, spot, dim_order)
    ry0, rx0 = read[iy][0], read[ix][0]
    mine = (
        max(own[iy][0], py0) - py0,
        min(own[iy][1], py1) - py0,
        max(own[ix][0], px0) - px0,
        min(own[ix][1], px1) - px0,
    )
    shape = (py1 - py0, px1 - px0)
    for t in plane_tiles(mine, (0, shape[0], 0, shape[1]), halo, TILE_PIXELS):
        y0, y1, x0, x1 = t.read
        a, b = y0 + py0 - ry0, x0 + px0 - rx0
        if a < 0 or b < 0 or a + y1 - y0 > view.shape[0] or b + x1 - x0 > view.shape[1]:
            raise ValueError("the memory chunk lacks the halo its tiled processors need")
        data = view[a : a + y1 - y0, b : b + x1 - x0]
        oy0, oy1, ox0, ox1 = t.own
        yield PlaneTile(data, (oy0 - y0, oy1 - y0, ox0 - x0, ox1 - x0), (y0, x0), shape)


def visit_all(program: PlaneProgram, plane_tiles_: Sequence[PlaneTile]) -> Any:
    """One pass of ``program`` over the tiles: their merged partial."""
    return program.merge([program.visit(t) for t in plane_tiles_])


def run_program(program: PlaneProgram, plane_tiles_: Sequence[PlaneTile]) -> Mapping[str, float]:
    """Every pass of a program over a plane held in memory: the plane's column values."""
    while True:
        merged = visit_all(program, plane_tiles_)
        if program.last:
            return program.finish(merged)
        program = program.advance(merged)


def start(
    processor: TiledProcessor, image: ImageContext, spot: PlaneSpot
) -> PlaneProgram:
    """The first program of a plane."""
    y0, y1, x0, x1 = spot.box
    return processor.program(image, (y1 - y0, x1 - x0))


def combine_planes(
    processor: TiledProcessor, per_plane: Sequence[Mapping[str, float]]
) -> dict[str, np.ndarray]:
    """The value of a piece (one entry per column) from the values of its planes.

    The planes' values are rolled up by the columns' own rules, exactly as the engine rolls
    leaf pieces up into coarser rows.
    """
    values = {
        c.name: np.array(
            [p[c.name] for p in per_plane],
            dtype=np.int64 if pa.types.is_integer(c.type) else np.float64,
        )
        for c in processor.COLUMNS
    }
    groups = Groups.from_ids(np.zeros(len(per_plane), dtype=np.intp), 1)
    return aggregate(processor.COLUMNS, values, groups)


def placeholder(processor: TiledProcessor) -> dict[str, float]:
    """Column values of a plane whose result comes later: null, and weight 0 for integers."""
    return {c.name: 0 if pa.types.is_integer(c.type) else np.nan for c in processor.COLUMNS}


__all__ = [
    "TILE_PIXELS",
    "PlaneKey",
    "PlaneSpot",
    "combine_planes",
    "leaf_box",
    "needs_program",
    "placeholder",
    "plane_view",
    "run_program",
    "spots",
    "start",
    "tiles",
    "visit_all",
    "yx_axes",
]
