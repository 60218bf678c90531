"""Leaf processors over the leaf pieces of one memory chunk, plain and tiled.

Pieces come in groups of equal shape (see :mod:`pixel_patrol_base.blocks`). Plain leaf
processors reduce stacks of pieces; a tiled processor does too when the group's planes are
whole and small, and otherwise runs its plane program on every plane of every piece (see
:mod:`pixel_patrol_base.planes`): to the end when the chunk holds the whole plane, or just the
last pass when the chunk holds part of it, whose partial is returned for the image's finish.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from pixel_patrol_base import planes
from pixel_patrol_base.blocks import LeafGrid, PieceRun, group_starts, leaf_stacks, piece_groups
from pixel_patrol_base.contracts import (
    ImageContext,
    LeafProcessor,
    LeafStack,
    PlaneProgram,
    TiledProcessor,
    is_tiled,
)
from pixel_patrol_base.planes import PlaneKey
from pixel_patrol_base.plugin_outputs import leaf_output

Bounds = tuple[tuple[int, int], ...]
Partials = dict[PlaneKey, tuple[PlaneProgram, Any]]


class LeafTable:
    """Per-piece processor outputs of a chunk, written batch by batch at known offsets."""

    def __init__(self, n_pieces: int) -> None:
        self.n = n_pieces
        self.columns: dict[str, np.ndarray] = {}

    def put(self, proc: LeafProcessor, out: Mapping[str, Any], offset: int, n: int) -> None:
        """Check one processor's output for ``n`` pieces against its declarations and store it
        (a violation stops the run: :func:`~pixel_patrol_base.plugin_outputs.leaf_output`)."""
        for name, arr in leaf_output(proc, out, n).items():
            if name not in self.columns:
                self.columns[name] = np.empty((self.n, *arr.shape[1:]), dtype=arr.dtype)
            self.columns[name][offset : offset + n] = arr


def concat(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Concatenate along the first axis without copying a single part."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def own_view(array: np.ndarray, read: Bounds | None, bounds: Bounds) -> np.ndarray:
    """The chunk's own pixels inside an array that holds ``read`` (its halo included)."""
    if read is None or tuple(read) == tuple(bounds):
        return array
    return array[tuple(slice(a - r, b - r) for (a, b), (r, _) in zip(bounds, read, strict=True))]


def run_leaves(
    array: np.ndarray,
    read: Bounds | None,
    bounds: Bounds,
    grid: LeafGrid,
    leaf: Sequence[LeafProcessor],
    image: ImageContext,
    programs: Mapping[PlaneKey, PlaneProgram],
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], Partials]:
    """Cut the chunk into leaf pieces and run every leaf processor on them.

    Returns the pieces' global starts and sizes, the processors' values per piece and, for
    planes this chunk holds only part of, the last-pass partials of their plane programs.
    ``array`` holds the box ``read`` (the chunk grown by the tiled processors' halo), or
    exactly ``bounds`` when ``read`` is ``None``.
    """
    groups, starts, sizes = piece_plan(grid, tuple(bounds))
    table = LeafTable(sum(len(s) for s in starts))
    partials: Partials = {}
    own = own_view(array, read, bounds)
    where = read if read is not None else bounds
    offset = 0
    tiled = any(is_tiled(p) for p in leaf)
    for group, st, sz in zip(groups, starts, sizes, strict=True):
        # the pieces of a group share their Y/X extent and alignment: its ends speak for all
        direct = tiled and (
            planes.needs_program(grid, st[0], sz[0]) or planes.needs_program(grid, st[-1], sz[-1])
        )
        stacked = [p for p in leaf if not (direct and is_tiled(p))]
        if stacked:
            _run_stacks(own, group, stacked, image, table, offset)
        for proc in leaf if direct else []:
            if is_tiled(proc):
                job = _Planes(array, where, bounds, grid, image, programs, partials)
                values = [job.piece(proc, a, b) for a, b in zip(st, sz, strict=True)]
                out = {c.name: np.concatenate([v[c.name] for v in values]) for c in proc.COLUMNS}
                table.put(proc, out, offset, len(st))
        offset += len(st)
    cat_sizes = concat(sizes).astype(np.int64)
    return concat(starts), cat_sizes, table.columns, partials


CACHED_PIECES = 1024
"""Piece plans of chunks with up to this many leaf pieces are kept per geometry."""

Plan = tuple[list[tuple[PieceRun, ...]], list[np.ndarray], list[np.ndarray]]


def piece_plan(grid: LeafGrid, bounds: Bounds) -> Plan:
    """The chunk's groups of equal pieces with their global starts and sizes (read-only).

    Pure geometry, so chunks of one geometry with few pieces (a folder of same-sized images)
    compute it once; chunks of many pieces are planned afresh, keeping the cache small.
    """
    pieces = 1
    for (a, b), blk in zip(bounds, grid.block, strict=True):
        pieces *= (b - 1) // blk - a // blk + 1
    return _cached_plan(grid, bounds) if pieces <= CACHED_PIECES else _plan(grid, bounds)


@functools.lru_cache(maxsize=256)
def _cached_plan(grid: LeafGrid, bounds: Bounds) -> Plan:
    return _plan(grid, bounds)


def _plan(grid: LeafGrid, bounds: Bounds) -> Plan:
    groups = list(piece_groups(grid, bounds))
    starts = [group_starts(g) for g in groups]
    sizes = [
        np.broadcast_to([r.length for r in g], s.shape) for g, s in zip(groups, starts, strict=True)
    ]
    for s in starts:
        s.setflags(write=False)
    return groups, starts, sizes


def _run_stacks(
    own: np.ndarray,
    group: Sequence[PieceRun],
    procs: Sequence[LeafProcessor],
    image: ImageContext,
    table: LeafTable,
    offset: int,
) -> None:
    """Plain leaf processing: stacks of equally shaped pieces (copies bounded in size)."""
    for data in _stacks(own, group):
        stack = LeafStack(data, image)
        for proc in procs:
            table.put(proc, proc.run(stack), offset, len(data))
        offset += len(data)


def _stacks(own: np.ndarray, group: Sequence[PieceRun]) -> Iterator[np.ndarray]:
    """:func:`~pixel_patrol_base.blocks.leaf_stacks`, with the common case of a chunk that is
    one whole piece (a small image) taken as a one-leaf stack directly."""
    if own.shape == tuple(r.length for r in group) and all(r.offset == 0 for r in group):
        return iter([np.ascontiguousarray(own)[None]])
    return leaf_stacks(own, group)


class _Planes:
    """Plane programs on the planes of the pieces of one chunk."""

    def __init__(
        self,
        array: np.ndarray,
        read: Bounds,
        bounds: Bounds,
        grid: LeafGrid,
        image: ImageContext,
        programs: Mapping[PlaneKey, PlaneProgram],
        partials: Partials,
    ) -> None:
        self.array, self.read, self.bounds, self.grid = array, read, bounds, grid
        self.image, self.programs, self.partials = image, programs, partials

    def piece(
        self, proc: TiledProcessor, start: np.ndarray, size: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Values of one piece: its planes' values rolled up (placeholders for cut planes)."""
        per_plane = [self._plane(proc, spot, start, size) for spot in planes.spots(self.grid, start, size)]
        return planes.combine_planes(proc, per_plane)

    def _plane(
        self, proc: TiledProcessor, spot: planes.PlaneSpot, start: np.ndarray, size: np.ndarray
    ) -> Mapping[str, float]:
        iy, ix = planes.yx_axes(self.grid.dim_order)
        y0, y1, x0, x1 = spot.box
        whole = (start[iy], start[ix], size[iy], size[ix]) == (y0, x0, y1 - y0, x1 - x0)
        if whole:
            program = planes.start(proc, self.image, spot)
        else:
            key: PlaneKey = (proc.NAME, spot.coords)
            found = self.programs.get(key)
            if found is None or not found.last:
                raise ValueError(
                    f"{proc.NAME}: a plane cut by the memory chunk needs its survey passes first"
                )
            program = found
        tiles = list(
            planes.tiles(self.array, self.read, self.bounds, spot, self.grid.dim_order, proc.HALO)
        )
        if whole:
            return planes.run_program(program, tiles)
        self.partials[(proc.NAME, spot.coords)] = (program, planes.visit_all(program, tiles))
        return planes.placeholder(proc)


__all__ = ["LeafTable", "Partials", "concat", "own_view", "run_leaves"]
