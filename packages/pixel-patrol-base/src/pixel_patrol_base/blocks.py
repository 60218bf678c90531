"""Leaf-block geometry: how ``--slice-size`` cuts an image into the blocks statistics describe.

A *leaf block* is the smallest box the report describes. Its size along each axis comes from
``slice_size`` (X and Y default to the full extent, every other axis to 1, ``-1`` means the full
extent). The block grid is anchored at the image origin, so block ``k`` along an axis of block
size ``b`` always starts at ``k * b`` whatever part of the image a worker holds. A memory chunk
that starts or ends inside a block (only when a single plane is split) yields *partial* blocks;
they are merged later by the same rules that roll leaves up into coarser rows.

Apart from :func:`leaf_stacks`, which reshapes a chunk into stacks of equally shaped leaves
(views where the layout allows), everything here is integer arithmetic on shapes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pixel_patrol_base.contracts import ImageHeader
from pixel_patrol_base.errors import PixelPatrolError, SettingsError

ROW_ORDER = "ZTCSYX"
"""Order in which axes produce obs-level rows and axis combinations."""

PLANE_AXES = "YX"
"""Axes whose leaf size defaults to the full extent."""

STACK_ELEMENTS = 1 << 22
"""Values per leaf stack handed to processors; bounds the stack copies (~32 MB as float64)."""


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


def piece_groups(
    grid: LeafGrid, bounds: Sequence[tuple[int, int]]
) -> Iterator[tuple[PieceRun, ...]]:
    """Groups of equally shaped leaf pieces inside a chunk: one run per axis, all combinations."""
    per_axis = [axis_runs(a, b, blk) for (a, b), blk in zip(bounds, grid.block, strict=True)]
    yield from itertools.product(*per_axis)


def group_starts(group: Sequence[PieceRun]) -> np.ndarray:
    """Global start of every piece of a group, ``(pieces, ndim)`` in C order of the piece grid."""
    counts = [r.count for r in group]
    grid = np.indices(counts, dtype=np.int64).reshape(len(group), -1).T
    result: np.ndarray = grid * np.array([r.length for r in group]) + np.array([r.start for r in group])
    return result


def leaf_stacks(array: np.ndarray, group: Sequence[PieceRun]) -> Iterator[np.ndarray]:
    """The group's pieces as ``(n, *piece_shape)`` stacks, in C order, ≤ STACK_ELEMENTS each.

    Consecutive stacks continue the C order of :func:`group_starts`, so the i-th leaf of the
    concatenated stacks is the i-th start.
    """
    lengths = [r.length for r in group]
    for ranges in _batches([r.count for r in group], math.prod(lengths)):
        box = tuple(
            slice(r.offset + lo * r.length, r.offset + hi * r.length)
            for r, (lo, hi) in zip(group, ranges, strict=True)
        )
        counts = [hi - lo for lo, hi in ranges]
        yield _stack(array[box], counts, lengths)


def _batches(counts: Sequence[int], leaf_elems: int) -> Iterator[list[tuple[int, int]]]:
    """Split a piece grid into boxes of ≤ STACK_ELEMENTS values that stay in C order.

    The first axis ``k`` whose trailing piece grid fits is cut into runs; axes before it are
    iterated one index at a time, axes after it are taken whole.
    """
    max_leaves = max(1, STACK_ELEMENTS // max(leaf_elems, 1))
    k = next(i for i in range(len(counts)) if math.prod(counts[i + 1 :]) <= max_leaves)
    step = max(1, max_leaves // math.prod(counts[k + 1 :]))
    tail = [(0, c) for c in counts[k + 1 :]]
    for prefix in itertools.product(*(range(c) for c in counts[:k])):
        head = [(i, i + 1) for i in prefix]
        for lo in range(0, counts[k], step):
            yield [*head, (lo, min(counts[k], lo + step)), *tail]


def _stack(sub: np.ndarray, counts: Sequence[int], lengths: Sequence[int]) -> np.ndarray:
    """Reorder a box holding ``counts`` pieces of ``lengths`` into ``(n, *lengths)``.

    For the default leaves of a C-ordered stack (one plane per leaf) this is a view.
    """
    nd = len(counts)
    split = sub.reshape([v for c, n in zip(counts, lengths, strict=True) for v in (c, n)])
    moved = split.transpose([*range(0, 2 * nd, 2), *range(1, 2 * nd, 2)])
    return np.ascontiguousarray(moved.reshape(-1, *lengths))
