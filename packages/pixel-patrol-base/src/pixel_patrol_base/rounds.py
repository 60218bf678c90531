"""Plane programs across memory chunks: survey rounds and the final merge. Pure, no Dask.

When an image's memory chunks cut a plane (only a plane larger than ``--mb-per-task`` is cut),
no chunk can compute that plane's tiled metrics alone. The coordinator then

1. starts one program per cut plane and tiled processor (:func:`initial_programs`);
2. runs survey rounds while a program is not at its last pass: every chunk visits its part
   of the planes (:func:`survey_chunk`), the partials of all chunks are merged per plane
   and the programs advance (:func:`advance`);
3. sends the last-pass programs with the statistics pass; the chunks' partials are merged
   and finished by :func:`finish_planes`, which writes each plane's values into the leaf
   piece holding the plane's first pixel, so the roll-up counts every plane once.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pixel_patrol_base import planes
from pixel_patrol_base.blocks import LeafGrid
from pixel_patrol_base.contracts import (
    ImageContext,
    PlaneProgram,
    Processor,
    TiledProcessor,
    is_tiled,
)
from pixel_patrol_base.planes import PlaneKey, PlaneSpot
from pixel_patrol_base.tiling import Box

Bounds = tuple[tuple[int, int], ...]


def _cut_yx_boxes(grid: LeafGrid, region: Bounds) -> list[Box]:
    """Leaf (Y, X) boxes that ``region`` overlaps without holding them whole."""
    iy, ix = planes.yx_axes(grid.dim_order)
    (ya, yb), (xa, xb) = region[iy], region[ix]
    by, bx = grid.block[iy], grid.block[ix]
    out = []
    for ky, kx in itertools.product(range(ya // by, (yb - 1) // by + 1), range(xa // bx, (xb - 1) // bx + 1)):
        box = planes.leaf_box(grid, ky * by, kx * bx)
        if not (ya <= box[0] and box[1] <= yb and xa <= box[2] and box[3] <= xb):
            out.append(box)
    return out


def cut_spots(grid: LeafGrid, regions: Sequence[Bounds]) -> list[PlaneSpot]:
    """Every plane that some region holds only part of, in a fixed order, once each."""
    iy, ix = planes.yx_axes(grid.dim_order)
    seen: dict[tuple[int, ...], PlaneSpot] = {}
    for region in regions:
        for box in _cut_yx_boxes(grid, region):
            ranges = [
                [box[0]] if a == iy else [box[2]] if a == ix else range(*region[a])
                for a in range(len(region))
            ]
            for coords in itertools.product(*ranges):
                seen.setdefault(tuple(coords), PlaneSpot(tuple(coords), box))
    return [seen[k] for k in sorted(seen)]


def initial_programs(
    grid: LeafGrid,
    image: ImageContext,
    processors: Sequence[Processor],
    regions: Sequence[Bounds],
) -> dict[PlaneKey, PlaneProgram]:
    """The first program of every cut plane, for every tiled processor."""
    tiled = [p for p in processors if is_tiled(p)]
    return {
        (proc.NAME, spot.coords): planes.start(proc, image, spot)
        for spot in (cut_spots(grid, regions) if tiled else [])
        for proc in tiled
    }


def pending(programs: Mapping[PlaneKey, PlaneProgram]) -> bool:
    """Whether some program still has a pass before its last one (another survey round)."""
    return any(not p.last for p in programs.values())


def spot_of(grid: LeafGrid, key: PlaneKey) -> PlaneSpot:
    """Where the plane of ``key`` lies."""
    iy, ix = planes.yx_axes(grid.dim_order)
    coords = key[1]
    return PlaneSpot(coords, planes.leaf_box(grid, coords[iy], coords[ix]))


def touches(grid: LeafGrid, key: PlaneKey, region: Bounds) -> bool:
    """Whether ``region`` holds some pixel of the plane of ``key``."""
    iy, ix = planes.yx_axes(grid.dim_order)
    y0, y1, x0, x1 = spot_of(grid, key).box
    for a, (lo, hi) in enumerate(region):
        if a == iy and (hi <= y0 or lo >= y1):
            return False
        if a == ix and (hi <= x0 or lo >= x1):
            return False
        if a not in (iy, ix) and not lo <= key[1][a] < hi:
            return False
    return True


def programs_in(
    grid: LeafGrid, region: Bounds, programs: Mapping[PlaneKey, PlaneProgram]
) -> dict[PlaneKey, PlaneProgram]:
    """The programs of the planes ``region`` touches (what a chunk task must carry)."""
    return {k: p for k, p in programs.items() if touches(grid, k, region)}


def survey_chunk(
    array: np.ndarray,
    read: Bounds,
    bounds: Bounds,
    grid: LeafGrid,
    processors: Sequence[Processor],
    programs: Mapping[PlaneKey, PlaneProgram],
) -> dict[PlaneKey, Any]:
    """One survey pass of the chunk ``bounds`` (``array`` holds ``read``): partial per plane."""
    halo = {p.NAME: p.HALO for p in processors if is_tiled(p)}
    out = {}
    for key, program in programs.items():
        if program.last or not touches(grid, key, bounds):
            continue
        spot = spot_of(grid, key)
        tiles = list(planes.tiles(array, read, bounds, spot, grid.dim_order, halo[key[0]]))
        out[key] = planes.visit_all(program, tiles)
    return out


def advance(
    programs: Mapping[PlaneKey, PlaneProgram], merged: Mapping[PlaneKey, Any]
) -> dict[PlaneKey, PlaneProgram]:
    """The programs after a survey round (``merged`` = each plane's partial of all chunks)."""
    return {k: (p if p.last else p.advance(merged[k])) for k, p in programs.items()}


def finish_planes(
    grid: LeafGrid,
    starts: np.ndarray,
    sizes: np.ndarray,
    values: dict[str, np.ndarray],
    partials: Sequence[Mapping[PlaneKey, tuple[PlaneProgram, Any]]],
    processors: Sequence[Processor],
) -> None:
    """Finish the cut planes and write their values into the pieces (``values`` in place)."""
    collected: dict[PlaneKey, tuple[PlaneProgram, list[Any]]] = {}
    for chunk in partials:
        for key, (program, part) in chunk.items():
            collected.setdefault(key, (program, []))[1].append(part)
    if not collected:
        return
    by_name = {p.NAME: p for p in processors if is_tiled(p)}
    anchors: dict[tuple[str, int], list[Mapping[str, float]]] = {}
    for key, (program, parts) in collected.items():
        result = program.finish(program.merge(parts))
        anchors.setdefault((key[0], _anchor(starts, sizes, key[1])), []).append(result)
    for (name, index), per_plane in anchors.items():
        proc: TiledProcessor = by_name[name]
        combined = planes.combine_planes(proc, per_plane)
        for col in proc.COLUMNS:
            values[col.name][index] = combined[col.name][0]


def _anchor(starts: np.ndarray, sizes: np.ndarray, point: tuple[int, ...]) -> int:
    """Index of the piece holding ``point``."""
    p = np.asarray(point, dtype=np.int64)
    inside = np.all((starts <= p) & (p < starts + sizes), axis=1)
    hits = np.flatnonzero(inside)
    if len(hits) != 1:
        raise ValueError("the chunks do not tile the image: a plane's first pixel is not covered once")
    return int(hits[0])


__all__ = [
    "advance",
    "cut_spots",
    "finish_planes",
    "initial_programs",
    "pending",
    "programs_in",
    "spot_of",
    "survey_chunk",
    "touches",
]
