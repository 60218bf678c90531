"""Leaf-block geometry: how ``--slice-size`` cuts an image into the blocks statistics describe.

A *leaf block* is the smallest box the report describes. Its size along each axis comes from
``slice_size`` (X and Y default to the full extent, every other axis to 1, ``-1`` means the full
extent). The block grid is anchored at the image origin, so block ``k`` along an axis of block
size ``b`` always starts at ``k * b`` whatever part of the image a worker holds. A memory chunk
that starts or ends inside a block (only when a single plane is split) yields *partial* blocks;
they are merged later by the same rules that roll leaves up into coarser rows.

Everything here is pure integer arithmetic on shapes; no pixels are touched.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from pixel_patrol_base.contracts import ImageHeader, Region
from pixel_patrol_base.errors import PixelPatrolError, SettingsError

ROW_ORDER = "ZTCSYX"
"""Order in which axes produce obs-level rows and axis combinations."""

PLANE_AXES = "YX"
"""Axes whose leaf size defaults to the full extent."""


class EmptyImageError(PixelPatrolError, ValueError):
    """The image has an axis of length 0, so there are no pixels to describe."""


def block_sizes(
    dim_order: str, shape: Sequence[int], slice_size: Mapping[str, int]
) -> tuple[int, ...]:
    """Resolve ``slice_size`` into one concrete block length per axis of ``dim_order``.

    ``-1`` (and any value larger than the extent) becomes the full extent. Letters absent from
    ``dim_order`` are ignored, so one setting can serve images with different axes.

    Raises
    ------
    SettingsError
        When a value is 0 or below -1.
    """
    out = []
    for axis, extent in zip(dim_order, shape, strict=True):
        default = -1 if axis in PLANE_AXES else 1
        size = int(slice_size.get(axis, default))
        if size == 0 or size < -1:
            raise SettingsError(
                f"slice size for {axis} must be -1 or a positive integer, got {size}"
            )
        out.append(int(extent) if size == -1 else min(size, max(int(extent), 1)))
    return tuple(out)


def tiled_plane_axes(slice_size: Mapping[str, int]) -> str:
    """Plane axes the user tiled explicitly; only these get ``dim_y``/``dim_x`` columns."""
    return "".join(a for a in PLANE_AXES if int(slice_size.get(a, -1)) > 0)


@dataclass(frozen=True, slots=True)
class LeafGrid:
    """The leaf-block grid of one image.

    Attributes
    ----------
    dim_order, shape
        The image's axes and extents.
    block
        Block length per axis (already clamped to the extent).
    n_blocks
        Number of blocks per axis (the last block may be shorter).
    row_axes
        Indices (into ``dim_order``) of the axes that produce rows, in :data:`ROW_ORDER`:
        axes with more than one block; Y and X only when the user tiled them.
    """

    dim_order: str
    shape: tuple[int, ...]
    block: tuple[int, ...]
    n_blocks: tuple[int, ...]
    row_axes: tuple[int, ...]

    @classmethod
    def from_header(cls, header: ImageHeader, slice_size: Mapping[str, int]) -> LeafGrid:
        """Build the grid; raises :class:`EmptyImageError` for zero-length axes."""
        shape = tuple(int(s) for s in header.shape)
        if len(shape) != len(header.dim_order):
            raise ValueError(f"dim_order {header.dim_order!r} does not match shape {shape}")
        empty = [f"{a}={s}" for a, s in zip(header.dim_order, shape, strict=True) if s <= 0]
        if empty:
            raise EmptyImageError(
                f"image has a zero-length axis ({', '.join(empty)}); no pixels to measure"
            )
        block = block_sizes(header.dim_order, shape, slice_size)
        n_blocks = tuple(-(-s // b) for s, b in zip(shape, block, strict=True))
        tiled = tiled_plane_axes(slice_size)
        rows = [
            header.dim_order.index(a)
            for a in ROW_ORDER
            if a in header.dim_order
            and n_blocks[header.dim_order.index(a)] > 1
            and (a not in PLANE_AXES or a in tiled)
        ]
        return cls(header.dim_order, shape, block, n_blocks, tuple(rows))

    def block_extent(self, axis: int, index: int) -> int:
        """Length of block ``index`` along ``axis`` (the last one may be shorter)."""
        start = index * self.block[axis]
        return min(self.block[axis], self.shape[axis] - start)


@dataclass(frozen=True, slots=True)
class PieceRun:
    """``count`` consecutive pieces of equal ``length`` along one axis of a chunk.

    ``offset`` is relative to the chunk, ``start`` is the global coordinate of the first piece.
    """

    offset: int
    start: int
    length: int
    count: int


def axis_runs(start: int, stop: int, block: int) -> list[PieceRun]:
    """Cut ``[start, stop)`` at the global multiples of ``block`` into runs of equal pieces.

    At most three runs come out (a partial head, whole blocks, a partial or short tail), so
    pieces of one run can be stacked into a single array.
    """
    cuts = [start, *range((start // block + 1) * block, stop, block), stop]
    runs: list[PieceRun] = []
    for a, b in itertools.pairwise(cuts):
        if runs and runs[-1].length == b - a:
            last = runs[-1]
            runs[-1] = PieceRun(last.offset, last.start, last.length, last.count + 1)
        else:
            runs.append(PieceRun(a - start, a, b - a, 1))
    return runs


def normalise_region(region: Region | None, shape: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """Turn a region of slices (or ``None`` for the whole image) into explicit (start, stop)."""
    if region is None:
        return tuple((0, int(s)) for s in shape)
    if len(region) != len(shape):
        raise ValueError(f"region has {len(region)} axes, image has {len(shape)}")
    out = []
    for sl, extent in zip(region, shape, strict=True):
        start, stop, step = sl.indices(int(extent))
        if step != 1 or stop <= start:
            raise ValueError(f"region {region} is not a non-empty box with unit steps")
        out.append((start, stop))
    return tuple(out)


def piece_groups(
    grid: LeafGrid, bounds: Sequence[tuple[int, int]]
) -> Iterator[tuple[PieceRun, ...]]:
    """Groups of equally shaped leaf pieces inside a chunk: one run per axis, all combinations."""
    per_axis = [axis_runs(a, b, blk) for (a, b), blk in zip(bounds, grid.block, strict=True)]
    yield from itertools.product(*per_axis)
