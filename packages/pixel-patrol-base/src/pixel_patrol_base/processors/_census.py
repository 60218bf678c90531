"""Per-level counts of 8- and 16-bit pixels, counted once per stack and shared.

A piece of such pixels holds few distinct levels (an 8-bit piece at most 256, a 12-bit camera's
at most 4,096) against 65,536 values. One ``bincount`` of a piece gives, exactly and for all
the built-in statistics at once: its min and max (first and last level), the counts at both
(saturation), its sum and sum of squares (integers, so the mean and the spread are computed
without rounding) and its histogram (levels folded into bins). ``raster-basic`` read the
pixels ten times for what the counts say in a few operations on the levels; the histogram
counted them anyway.

Counts are kept per leaf row of each piece of the plan of
:func:`~pixel_patrol_base.processors._pixels.pieces` (a leaf, a few leaves or a cut of a large
leaf) when its levels span at most a quarter of its values, so the counts take at most as many
bytes as the pixels, and when it has at least ``MIN_VALUES`` values (for smaller leaves the
per-row Python work costs more than the processors' vectorised passes over all rows at once);
other pieces are left to each processor's pixel path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pixel_patrol_base.contracts import LeafStack
from pixel_patrol_base.processors._pixels import flat_leaves, pieces

LEVEL_SHARE = 4
"""A piece keeps its level counts when it has at least this many values per level."""

MIN_VALUES = 1 << 14
"""Fewest values of a leaf row of a piece that gets level counts."""

MEMO_KEY = "level_counts"


@dataclass(frozen=True, slots=True)
class Levels:
    """Counts of the values ``base``, ``base + 1``, ... of one piece (first and last > 0)."""

    base: int
    counts: np.ndarray

    @property
    def top(self) -> int:
        """The piece's largest value."""
        return self.base + len(self.counts) - 1

    def sums(self) -> tuple[int, int, int]:
        """Number of values, Σ(v - base) and Σ(v - base)² as exact Python integers.

        Deviations from ``base`` are below 2**16 and a piece holds at most 2**16 values, so
        every product and sum fits int64 exactly."""
        k = np.arange(len(self.counts), dtype=np.int64)
        counts = self.counts.astype(np.int64)
        first = counts @ k
        return int(counts.sum()), int(first), int(counts @ (k * k))


Census = dict[tuple[int, int], Levels]
"""Level counts by ``(row, first column)`` of a piece of the pieces plan."""


def level_census(stack: LeafStack) -> Census:
    """The level counts of the stack's eligible pieces, counted on first use and kept in
    ``stack.memo`` for the other processors of the stack; empty for other pixel types."""
    found: Census | None = stack.memo.get(MEMO_KEY)
    if found is None:
        found = stack.memo[MEMO_KEY] = count_levels(flat_leaves(stack.data))
    return found


def count_levels(x: np.ndarray) -> Census:
    """:func:`level_census` of a ``(leaves, pixels)`` array."""
    if x.dtype == np.bool_:
        x = x.view(np.uint8)
    if x.dtype.kind not in "iu" or x.dtype.itemsize > 2 or x.size == 0:
        return {}
    out: Census = {}
    for rows, cols in pieces(*x.shape):
        if cols.stop - cols.start < MIN_VALUES:
            continue
        for r in range(rows.start, rows.stop):
            levels = piece_levels(x[r, cols])
            if levels is not None:
                out[r, cols.start] = levels
    return out


def rows_of(census: Census, rows: slice, cols: slice) -> list[Levels] | None:
    """The level counts of every row of a piece, or ``None`` if some row has none."""
    found = [census.get((r, cols.start)) for r in range(rows.start, rows.stop)]
    complete = [levels for levels in found if levels is not None]
    return complete if complete and len(complete) == len(found) else None


def piece_levels(p: np.ndarray) -> Levels | None:
    """Level counts of a one-row piece, or ``None`` when its levels are too spread out."""
    lo, hi = int(p.min()), int(p.max())
    if (hi - lo + 1) * LEVEL_SHARE > len(p):
        return None
    return count_row(p, lo, hi)


def count_row(p: np.ndarray, lo: int, hi: int) -> Levels:
    """Level counts of a row of integers whose min and max are ``lo`` and ``hi``."""
    if 0 <= lo <= hi - lo:  # counting from 0 saves the pass that shifts every value
        counts = np.bincount(p, minlength=hi + 1)[lo:]
    else:
        counts = np.bincount(p.astype(np.intp) - lo, minlength=hi - lo + 1)
    return Levels(lo, counts.astype(np.int32))
