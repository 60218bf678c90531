"""Pixel statistics engine: leaf blocks → processor partials → obs-level rows.

The engine is pure numpy (no Dask, no file IO) so the pipeline can run it anywhere:

1. :func:`finite_range` / :func:`merge_ranges`: image-wide finite value range, computed per
   memory chunk and merged, so histogram edges are the same for every chunk of an image.
2. :func:`analyse_chunk`: one memory chunk → :class:`ChunkResult` (per-leaf-piece columns and
   memory-processor partials; small and picklable).
3. :func:`finish_image`: all chunks of an image → its obs rows, column-oriented.

:func:`process_image` chains the three for an image held in memory. Leaf blocks are anchored at
the image origin, so how an image is split into chunks changes only float rounding of means and
standard deviations, never which pixels a row describes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pixel_patrol_base import rounds
from pixel_patrol_base.blocks import STACK_ELEMENTS, LeafGrid, tiled_plane_axes
from pixel_patrol_base.columns import DIM_COLUMNS, FILE_COLUMNS, IMAGE_COLUMNS, plane_dim_columns
from pixel_patrol_base.contracts import (
    ROW_AXES,
    Column,
    ImageContext,
    ImageHeader,
    LeafProcessor,
    PlaneProgram,
    Processor,
)
from pixel_patrol_base.leaves import Partials, concat, own_view, run_leaves
from pixel_patrol_base.planes import PlaneKey
from pixel_patrol_base.plugin_outputs import memory_output, split_kinds
from pixel_patrol_base.processors._pixels import check_real
from pixel_patrol_base.regions import normalise_region
from pixel_patrol_base.rollup import (
    Groups,
    aggregate,
    axis_subsets,
    row_geometry,
    row_ids,
    validate_columns,
)

__all__ = [
    "ChunkResult",
    "analyse_chunk",
    "columns_for",
    "finish_image",
    "finite_range",
    "merge_ranges",
    "process_image",
]

ValueRange = tuple[float, float]


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """What one memory chunk contributes to its image (travels back from workers).

    Attributes
    ----------
    bounds
        ``(start, stop)`` per axis of the chunk inside the image.
    starts, sizes
        ``(pieces, ndim)`` global start and extent of each leaf piece; a piece is a whole leaf
        block, or part of one when the chunk boundary cuts through it.
    leaf
        Leaf-processor column values per piece (first axis = pieces), internal columns included.
    memory
        Memory-processor partials by processor ``NAME``.
    planes
        Last-pass partials of the plane programs of planes this chunk holds only part of
        (see :mod:`pixel_patrol_base.rounds`).
    """

    bounds: tuple[tuple[int, int], ...]
    starts: np.ndarray
    sizes: np.ndarray
    leaf: dict[str, np.ndarray] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    planes: Partials = field(default_factory=dict)


def finite_range(array: np.ndarray) -> ValueRange | None:
    """Smallest and largest finite value (NaN and ±Inf ignored), or ``None`` if there is none.

    Integer images give Python ints so 64-bit values stay exact for the histogram edges.
    """
    a = np.asarray(array)
    check_real(a.dtype)
    if a.size == 0:
        return None
    if a.dtype.kind in "biu":
        return int(a.min()), int(a.max())
    with np.errstate(invalid="ignore"):
        lo, hi = a.min(), a.max()
    if np.isfinite(lo) and np.isfinite(hi):
        return float(lo), float(hi)
    return _masked_range(a.reshape(-1))


def _masked_range(flat: np.ndarray) -> ValueRange | None:
    """Finite range of a 1-D float array with non-finite values, in bounded pieces."""
    ranges = []
    for i in range(0, len(flat), STACK_ELEMENTS):
        piece = flat[i : i + STACK_ELEMENTS]
        finite = piece[np.isfinite(piece)]
        if finite.size:
            ranges.append((float(finite.min()), float(finite.max())))
    return merge_ranges(ranges)


def merge_ranges(ranges: Iterable[ValueRange | None]) -> ValueRange | None:
    """Combine the finite ranges of an image's chunks (``None`` entries are chunks without any)."""
    known = [r for r in ranges if r is not None]
    if not known:
        return None
    return min(r[0] for r in known), max(r[1] for r in known)


def leaf_grid(header: ImageHeader, slice_size: Mapping[str, int]) -> LeafGrid:
    """The image's leaf grid, built once per geometry: a folder of same-sized images (and the
    analyse and finish steps of one image) share it instead of re-deriving the block sizes."""
    key = tuple(sorted((str(a), int(n)) for a, n in slice_size.items()))
    return _cached_grid(header.dim_order, tuple(int(n) for n in header.shape), key)


@functools.lru_cache(maxsize=256)
def _cached_grid(
    dim_order: str, shape: tuple[int, ...], slice_size: tuple[tuple[str, int], ...]
) -> LeafGrid:
    return LeafGrid.from_header(ImageHeader(dim_order, shape, "uint8"), dict(slice_size))


_VALIDATED: dict[tuple[int, ...], tuple[Sequence[Column], ...]] = {}


def _validate(leaf: Sequence[LeafProcessor], columns: Sequence[Column]) -> None:
    """:func:`validate_columns`, once per set of processors (a failure is never kept).

    Kept by the identity of the processors' ``COLUMNS`` tuples; the entry holds the tuples, so
    their ids stay unique while it exists.
    """
    declared = tuple(p.COLUMNS for p in leaf)
    key = tuple(id(c) for c in declared)
    seen = _VALIDATED.get(key)
    if seen is not None and all(a is b for a, b in zip(seen, declared, strict=True)):
        return
    validate_columns(columns)
    if all(isinstance(c, tuple) for c in declared):
        if len(_VALIDATED) >= 64:
            _VALIDATED.clear()
        _VALIDATED[key] = declared


def _leaf_columns(leaf: Sequence[LeafProcessor]) -> list[Column]:
    return [c for p in leaf for c in p.COLUMNS]


def analyse_chunk(
    array: np.ndarray,
    region: tuple[slice, ...] | None,
    header: ImageHeader,
    slice_size: Mapping[str, int],
    processors: Sequence[Processor],
    value_range: ValueRange | None = None,
    read: tuple[slice, ...] | None = None,
    programs: Mapping[PlaneKey, PlaneProgram] | None = None,
) -> ChunkResult:
    """Run every processor on one memory chunk.

    Parameters
    ----------
    array
        Pixels of ``read`` (or of ``region`` when ``read`` is ``None``) in ``header.dim_order``.
    region
        Where the chunk lies in the image (one slice per axis); ``None`` = the whole image.
    header
        The whole image's header.
    slice_size
        Leaf block size per axis letter (see :mod:`pixel_patrol_base.blocks`).
    processors
        Leaf and memory processors to run.
    value_range
        The image-wide finite range (from :func:`merge_ranges`), for processors that need it.
    read
        The box ``array`` holds: ``region`` grown by the tiled processors' halo along Y and X
        (see :func:`pixel_patrol_base.tiling.halo_bounds`), so that their neighbourhoods
        across the chunk border are exact.
    programs
        Last-pass plane programs of the planes ``region`` holds only part of (from the survey
        rounds, see :mod:`pixel_patrol_base.rounds`).
    """
    grid = leaf_grid(header, slice_size)
    bounds = normalise_region(region, grid.shape)
    held = bounds if read is None else normalise_region(read, grid.shape)
    if tuple(array.shape) != tuple(b - a for a, b in held):
        raise ValueError(f"chunk of shape {array.shape} does not match region {held}")
    image = ImageContext(header.dim_order, grid.shape, header.dtype, value_range)
    leaf, memory = split_kinds(processors)
    starts, sizes, values, partials = run_leaves(
        array, held, bounds, grid, leaf, image, programs or {}
    )
    box = tuple(slice(a, b) for a, b in bounds)
    own = own_view(array, held, bounds)
    memo = {p.NAME: p.run(own, box, image) for p in memory}
    return ChunkResult(bounds, starts, sizes, values, memo, partials)


def finish_image(
    chunks: Sequence[ChunkResult],
    header: ImageHeader,
    slice_size: Mapping[str, int],
    processors: Sequence[Processor],
    value_range: ValueRange | None = None,
) -> dict[str, list[Any]]:
    """Merge the chunks of one image into its obs rows (column name → one value per row).

    Row order: obs_level 0, then one block of one axis (axes in Z, T, C, S, Y, X order), then
    combinations of two axes, ... Memory-processor columns are filled on the obs_level-0 row
    only. The result does not depend on the order of ``chunks``.
    """
    grid = leaf_grid(header, slice_size)
    leaf, memory = split_kinds(processors)
    columns = _leaf_columns(leaf)
    _validate(leaf, columns)
    starts, sizes, values = _merge_chunks(chunks, columns)
    if not _whole(chunks, grid):
        _check_tiling(grid, starts, sizes)
    rounds.finish_planes(grid, starts, sizes, values, [c.planes for c in chunks], leaf)
    public = [c for c in columns if not c.internal]
    plane_axes = tiled_plane_axes(slice_size)
    out: dict[str, list[Any]] = {}
    for axes, groups in _row_groups(grid, starts):
        rolled = aggregate(columns, values, groups)
        _extend(out, _row_geometry(grid, axes, len(groups.starts), plane_axes))
        _extend(out, {c.name: _to_list(rolled[c.name]) for c in public})
    image = ImageContext(header.dim_order, grid.shape, header.dtype, value_range)
    n_total = len(out["obs_level"])
    for proc in memory:
        result = memory_output(proc, proc.finish([c.memory.get(proc.NAME) for c in chunks], image))
        for name, value in result.items():
            out[name] = [value] + [None] * (n_total - 1)
    return out


def process_image(
    array: np.ndarray,
    header: ImageHeader,
    slice_size: Mapping[str, int],
    processors: Sequence[Processor],
) -> dict[str, list[Any]]:
    """Obs rows of an image held in memory as one chunk (range, analyse, finish)."""
    needs_range = any(p.NEEDS_RANGE for p in processors)
    value_range = finite_range(array) if needs_range else None
    chunk = analyse_chunk(array, None, header, slice_size, processors, value_range)
    return finish_image([chunk], header, slice_size, processors, value_range)


def columns_for(processors: Sequence[Processor], slice_size: Mapping[str, int]) -> list[Column]:
    """Declarations of every column :func:`finish_image` can produce, in output order.

    All six ``*_size`` columns are listed; an image only fills those of its own axes.
    """
    by_name = {c.name: c for c in (*FILE_COLUMNS, *IMAGE_COLUMNS)}
    sizes = [by_name[f"{a}_size"] for a in ROW_AXES + "YX"]
    structural = [
        by_name["obs_level"],
        *DIM_COLUMNS,
        *plane_dim_columns(tiled_plane_axes(slice_size)),
        *sizes,
        by_name["num_pixels"],
    ]
    return structural + [c for p in processors for c in p.COLUMNS if not c.internal]


def _merge_chunks(
    chunks: Sequence[ChunkResult], columns: Sequence[Column]
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Concatenate the pieces of all chunks in a canonical order (by global start)."""
    if not chunks:
        raise ValueError("finish_image needs at least one chunk")
    starts = concat([c.starts for c in chunks])
    sizes = concat([c.sizes for c in chunks])
    order = np.zeros(1, dtype=np.intp) if len(starts) == 1 else np.lexsort(starts.T[::-1])
    in_order = len(starts) == 1 or bool(np.all(order == np.arange(len(order))))
    if len(chunks) == 1 and in_order:  # one chunk: its columns as they are
        leaf = chunks[0].leaf
        missing = [col.name for col in columns if col.name not in leaf]
        if missing:
            raise ValueError(f"column {missing[0]!r} is missing from some chunks")
        return starts, sizes, {col.name: leaf[col.name] for col in columns}
    values = {}
    for col in columns:
        parts = [c.leaf[col.name] for c in chunks if col.name in c.leaf]
        if len(parts) != len(chunks):
            raise ValueError(f"column {col.name!r} is missing from some chunks")
        merged = concat(parts)
        values[col.name] = merged if in_order else merged[order]
    if in_order:
        return starts, sizes, values
    return starts[order], sizes[order], values


def _whole(chunks: Sequence[ChunkResult], grid: LeafGrid) -> bool:
    """One chunk holding the whole image: its pieces tile it by construction."""
    return len(chunks) == 1 and all(
        a == 0 and b == n for (a, b), n in zip(chunks[0].bounds, grid.shape, strict=True)
    )


CACHED_PIECES = 1024
"""Row groupings of images with up to this many leaf pieces are kept per geometry."""


def _row_groups(grid: LeafGrid, starts: np.ndarray) -> list[tuple[tuple[int, ...], Groups]]:
    """The rows of every obs level and the pieces each row covers, in row order.

    Images of one geometry cut into the same pieces share this, so it is computed once for
    them (the arrays inside are read-only).
    """
    if len(starts) > CACHED_PIECES:
        return _groups_of(grid, starts)
    key = np.ascontiguousarray(starts, dtype=np.int64)
    return _cached_groups(grid, key.shape, key.tobytes())


@functools.lru_cache(maxsize=128)
def _cached_groups(
    grid: LeafGrid, shape: tuple[int, ...], starts: bytes
) -> list[tuple[tuple[int, ...], Groups]]:
    groups = _groups_of(grid, np.frombuffer(starts, dtype=np.int64).reshape(shape))
    for _, g in groups:
        for arr in (g.order, g.starts, g.sizes, g.ids):
            arr.setflags(write=False)
    return groups


def _groups_of(grid: LeafGrid, starts: np.ndarray) -> list[tuple[tuple[int, ...], Groups]]:
    block_idx = starts // np.array(grid.block, dtype=np.int64)
    out = []
    for axes in axis_subsets(grid.row_axes):
        ids, n_rows = row_ids(block_idx, axes, grid.n_blocks)
        out.append((axes, Groups.from_ids(ids, n_rows)))
    return out


def _row_geometry(
    grid: LeafGrid, axes: tuple[int, ...], n_rows: int, plane_axes: str
) -> dict[str, list[Any]]:
    """:func:`row_geometry`, once per geometry for images with few rows (callers copy the
    lists, never change them)."""
    if n_rows > CACHED_PIECES:
        return row_geometry(grid, axes, n_rows, plane_axes)
    return _cached_geometry(grid, axes, n_rows, plane_axes)


@functools.lru_cache(maxsize=512)
def _cached_geometry(
    grid: LeafGrid, axes: tuple[int, ...], n_rows: int, plane_axes: str
) -> dict[str, list[Any]]:
    return row_geometry(grid, axes, n_rows, plane_axes)


def _check_tiling(grid: LeafGrid, starts: np.ndarray, sizes: np.ndarray) -> None:
    """Every leaf block must be covered exactly once by the chunks' pieces."""
    block_idx = starts // np.array(grid.block, dtype=np.int64)
    flat = np.ravel_multi_index(tuple(block_idx.T), grid.n_blocks)
    got = np.bincount(
        flat, weights=np.prod(sizes, axis=1).astype(np.float64), minlength=math.prod(grid.n_blocks)
    )
    extents = [
        np.minimum(b, s - np.arange(n) * b)
        for b, s, n in zip(grid.block, grid.shape, grid.n_blocks, strict=True)
    ]
    want = extents[0].astype(np.float64)
    for e in extents[1:]:
        want = np.multiply.outer(want, e).astype(np.float64)
    if not np.array_equal(got, want.reshape(-1)):
        raise ValueError(
            "the chunks do not tile the image: some pixels are missing or counted twice"
        )


def _extend(out: dict[str, list[Any]], more: Mapping[str, list[Any]]) -> None:
    for key, vals in more.items():
        out.setdefault(key, []).extend(vals)


def _to_list(arr: np.ndarray) -> list[Any]:
    """Numpy column → Python values, NaN in float columns → None.

    List-valued columns (histograms) stay numpy: one 1-D row view per row, as 256 Python ints
    per row would take ~18x the memory on images with many rows.
    """
    if arr.ndim > 1:
        return list(arr)
    if arr.dtype.kind == "f":
        nan = np.isnan(arr)
        if nan.any():
            obj = arr.astype(object)
            obj[nan] = None
            return list(obj.tolist())
    return list(arr.tolist())
