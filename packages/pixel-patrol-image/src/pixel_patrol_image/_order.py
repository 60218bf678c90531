"""Exact order statistics (values of given ranks) of every row of a 2-D array.

Three routes, all returning the very values stored in the data, so a plane gets bit-identical
percentiles whichever route its batch takes: counting for 8/16-bit integers, selection through
a histogram for long rows of other types (both compiled, in
:mod:`pixel_patrol_image._order_kernels`), and plain partitioning for short rows.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from pixel_patrol_image._jit import kernel_input
from pixel_patrol_image._order_kernels import SELECT_BINS, counted_ranks, selected_ranks

COUNTED_DTYPES = frozenset("bBhH?")
"""dtype.char of int8, uint8, int16, uint16 and bool: few enough levels for exact counting."""

SELECT_MIN = 1 << 15
"""Row length from which histogram selection beats partitioning the whole row."""


def order_statistics(flat: np.ndarray, ranks: list[int]) -> np.ndarray:
    """``(b, len(ranks))`` in the pixel type: the value of rank ``k`` (0-based) of every row.

    Every value must be finite (NaN has no rank). The values are the very values stored in
    the rows, whichever route finds them.
    """
    counted = _counted(flat, ranks)
    if counted is not None:
        return counted
    wide_int = flat.dtype.kind in "iu" and flat.dtype.itemsize == 8
    if flat.shape[1] >= SELECT_MIN and not wide_int:
        return np.stack([_selected(row, ranks) for row in flat]).astype(flat.dtype)
    part = np.partition(flat, sorted(set(ranks)), axis=1)
    return part[:, ranks]


def _counted(flat: np.ndarray, ranks: list[int]) -> np.ndarray | None:
    """Order statistics from cumulative counts, or ``None`` when counting does not pay."""
    if flat.dtype.char not in COUNTED_DTYPES:
        return None
    b, n = flat.shape
    span = 1 << (8 * flat.dtype.itemsize)  # every level of the type: no pass to find the top
    if b * span > 2 * b * n + (1 << 16):
        return None
    keys, shift = _unsigned_keys(flat)
    ascending, inverse = _rank_order(tuple(ranks))
    sorted_values = np.empty((b, len(ranks)))
    counted_ranks(
        np.ascontiguousarray(kernel_input(keys)), span, ascending, sorted_values, _count_table(span)
    )
    out = sorted_values[:, inverse]
    if shift:
        out -= shift
    return out.astype(flat.dtype)


@functools.lru_cache(maxsize=256)
def _rank_order(ranks: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``ranks`` in ascending order (int64) and the positions that restore the given order.

    Cached: every plane of one size asks for the same ranks (callers only read them).
    """
    order = np.argsort(ranks, kind="stable")
    ascending = np.asarray(ranks, dtype=np.int64)[order]
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return ascending, inverse


_LOCAL = threading.local()


def _count_table(levels: int) -> np.ndarray:
    """This thread's zeroed int64 count table of at least ``levels`` entries (threads of a
    worker count side by side; the kernel leaves the table zeroed)."""
    table: np.ndarray | None = getattr(_LOCAL, "table", None)
    if table is None or len(table) < levels:
        table = _LOCAL.table = np.zeros(max(levels, 1 << 16), dtype=np.int64)
    return table


def _unsigned_keys(flat: np.ndarray) -> tuple[np.ndarray, int]:
    """Order-preserving unsigned view of 8/16-bit integers and the shift it adds."""
    unsigned = np.dtype(f"u{flat.dtype.itemsize}")
    if flat.dtype.kind == "u" or flat.dtype == np.bool_:
        return flat.view(unsigned), 0
    bits = 8 * flat.dtype.itemsize
    return flat.view(unsigned) ^ np.array(1 << (bits - 1), dtype=unsigned), 1 << (bits - 1)


def _selected(row: np.ndarray, ranks: list[int]) -> np.ndarray:
    """Order statistics of one long row through a histogram of ``SELECT_BINS`` bins.

    The scale is set here, in float32 for float32 rows and float64 otherwise, from halves
    of the extremes (the span of any two finite values is finite); the compiled
    :func:`~pixel_patrol_image._order_kernels.selected_ranks` does the rest.
    """
    if row.dtype == np.float16:  # the compiled selection has no half type; float32 is exact
        row = row.astype(np.float32)
    lo, hi = row.min(), row.max()
    if not lo < hi:
        return np.full(len(ranks), float(lo))
    wide = np.float32 if row.dtype == np.float32 else np.float64
    half = wide(0.5)
    half_lo = wide(lo) * half
    span = wide(hi) * half - half_lo
    if not span > wide(SELECT_BINS) / np.finfo(wide).max:  # subnormal spans: no scale
        return np.partition(row, sorted(set(ranks)))[ranks].astype(np.float64)
    order = np.argsort(ranks, kind="stable")
    picked = np.empty(len(ranks))
    ascending = np.asarray(ranks, dtype=np.int64)[order]
    selected_ranks(
        np.ascontiguousarray(row), half, half_lo, wide(SELECT_BINS) / span, ascending, picked
    )
    out = np.empty_like(picked)
    out[order] = picked
    return out
