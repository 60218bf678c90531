"""Pixels at a block's extremes: ``count_at_max`` / ``count_at_min`` and their roll-up keys.

Saturation is decided by how many pixels sit exactly at the maximum (or minimum) value, which a
histogram whose bins are wider than one value cannot say. The counts are exact: each leaf
piece counts the pixels equal to its own extreme in the pixels' native type, and the rollup
sums the counts of the pieces whose extreme equals the coarser row's extreme
(:attr:`~pixel_patrol_base.contracts.Agg.SUM_AT_EXTREME`).

The pieces' extremes travel to the rollup as internal int64 *order keys* rather than as the
float64 ``min_intensity`` / ``max_intensity`` values: a key keeps every value of every pixel
type exact (64-bit integers beyond 2**53 included) and orders like the value, so comparing
keys decides "same extreme" without rounding. NaN and ±Inf are not counted, like every
statistic of ``raster-basic``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pixel_patrol_base.contracts import Agg, Column
from pixel_patrol_base.processors._census import Census, Levels, rows_of
from pixel_patrol_base.processors._pixels import pieces

MAX_KEY = "_max_key"
MIN_KEY = "_min_key"
_I64 = np.iinfo(np.int64)
_SIGN = np.uint64(1 << 63)
_LOW63 = np.int64(_I64.max)

COLUMNS: tuple[Column, ...] = (
    Column(
        "count_at_max",
        pa.int64(),
        "Number of pixel values equal to max_intensity (finite values only; 0 if none).",
        Agg.SUM_AT_EXTREME,
        extreme=MAX_KEY,
    ),
    Column(
        "count_at_min",
        pa.int64(),
        "Number of pixel values equal to min_intensity (finite values only; 0 if none).",
        Agg.SUM_AT_EXTREME,
        extreme=MIN_KEY,
    ),
    Column(MAX_KEY, pa.int64(), "Order key of the exact largest finite value.", Agg.MAX, internal=True),
    Column(MIN_KEY, pa.int64(), "Order key of the exact smallest finite value.", Agg.MIN, internal=True),
)


def order_keys(values: np.ndarray) -> np.ndarray:
    """int64 keys that order like ``values`` and are equal exactly when the values are.

    Integers map to themselves (uint64 shifted by 2**63); floats map through their IEEE bits
    with the sign trick (negative values have their magnitude bits flipped), after -0.0 is
    made +0.0 so that the two zeros, equal as numbers, get one key.
    """
    if values.dtype.kind == "u" and values.dtype.itemsize == 8:
        return (values ^ _SIGN).view(np.int64)
    if values.dtype.kind in "iub":
        return values.astype(np.int64)
    bits = (values.astype(np.float64) + 0.0).view(np.int64)
    return np.where(bits < 0, bits ^ _LOW63, bits)


def extreme_counts(x: np.ndarray, census: Census | None = None) -> dict[str, np.ndarray]:
    """Counts at the finite max / min and their order keys for each row of ``(leaves, pixels)``.

    Rows are reduced in the same cache-sized pieces as the other statistics. When a row is cut
    into several pieces, the pieces' results are merged per row at the end: only the pieces
    whose extreme equals the row's extreme contribute their counts. One-row pieces with level
    counts in ``census`` (see ``_census``) read their extremes and counts from them.
    """
    census = census or {}
    if x.dtype == np.bool_:
        x = x.view(np.uint8)
    n = len(x)
    plan = [(r, c) for r, c in pieces(n, x.shape[1]) if c.stop > c.start]
    if not plan:
        hi, lo = np.full(n, _I64.min), np.full(n, _I64.max)
        zero = np.zeros(n, dtype=np.int64)
        return {"count_at_max": zero, "count_at_min": zero.copy(), MAX_KEY: hi, MIN_KEY: lo}
    if len(plan) == 1 and plan[0][0] == slice(0, n):  # one piece holds every row whole
        hi, n_hi, lo, n_lo = _piece_extremes(x[plan[0][0], plan[0][1]], rows_of(census, *plan[0]))
        return {"count_at_max": n_hi, "count_at_min": n_lo, MAX_KEY: hi, MIN_KEY: lo}
    parts = [_piece_extremes(x[rows, cols], rows_of(census, rows, cols)) for rows, cols in plan]
    hi, n_hi, lo, n_lo = (np.concatenate(v) if len(v) > 1 else v[0] for v in zip(*parts, strict=True))
    if len(hi) != n:
        owner = np.array([rows.start for rows, _ in plan])
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        hi, n_hi = _merge_cut(np.maximum, hi, n_hi, starts)
        lo, n_lo = _merge_cut(np.minimum, lo, n_lo, starts)
    return {"count_at_max": n_hi, "count_at_min": n_lo, MAX_KEY: hi, MIN_KEY: lo}


def _merge_cut(
    ufunc: np.ufunc, keys: np.ndarray, counts: np.ndarray, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row extreme key and count from consecutive pieces of each row (``starts``)."""
    row_key = ufunc.reduceat(keys, starts)
    sizes = np.diff(np.r_[starts, len(keys)])
    at = keys == np.repeat(row_key, sizes)
    return row_key, np.add.reduceat(np.where(at, counts, 0), starts)


def _piece_extremes(
    p: np.ndarray, levels: list[Levels] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(max key, count at max, min key, count at min) of each row of a small piece (from the
    rows' level counts when given: integer keys are the values themselves)."""
    if levels is not None:
        hi = np.array([row.top for row in levels], np.int64)
        lo = np.array([row.base for row in levels], np.int64)
        n_hi = np.array([row.counts[-1] for row in levels], np.int64)
        return hi, n_hi, lo, np.array([row.counts[0] for row in levels], np.int64)
    with np.errstate(invalid="ignore"):
        hi, lo = _reduce(np.maximum, p), _reduce(np.minimum, p)
    if p.dtype.kind == "f" and not (np.isfinite(hi).all() and np.isfinite(lo).all()):
        return _masked_extremes(p)
    n_hi, n_lo = _row_counts(p == hi[:, None]), _row_counts(p == lo[:, None])
    return order_keys(hi), n_hi, order_keys(lo), n_lo


def _masked_extremes(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Like :func:`_piece_extremes` over the finite values only (the piece has NaN or ±Inf)."""
    fin = np.isfinite(p)
    hi = np.where(fin, p, -np.inf).max(axis=1)
    lo = np.where(fin, p, np.inf).min(axis=1)
    none = ~fin.any(axis=1)
    n_hi = _row_counts(fin & (p == hi[:, None]))
    n_lo = _row_counts(fin & (p == lo[:, None]))
    hi_key = np.where(none, _I64.min, order_keys(hi))
    lo_key = np.where(none, _I64.max, order_keys(lo))
    return hi_key, n_hi, lo_key, n_lo


def _reduce(ufunc: np.ufunc, p: np.ndarray) -> np.ndarray:
    """Row-wise max/min; a one-row piece (the usual cut of a large plane) reduces flat."""
    if len(p) == 1:
        return np.asarray([ufunc.reduce(p[0])], dtype=p.dtype)
    result: np.ndarray = ufunc.reduce(p, axis=1)
    return result


_BYTE_LANES = 255
"""Words of 8 one-byte flags that can be added before a byte lane could carry over."""


def _row_counts(flags: np.ndarray) -> np.ndarray:
    """Number of True per row of a boolean piece (as int64).

    ``count_nonzero(axis=1)`` costs more than the comparison itself, so rows of up to 2,040
    flags are summed as 64-bit words holding 8 flags each: every byte of the sum counts one
    flag lane and cannot overflow, and the 8 lane counts are added at the end.
    """
    n, width = flags.shape
    if n == 1:
        return np.asarray([np.count_nonzero(flags)], dtype=np.int64)
    if width % 8 == 0 and width // 8 <= _BYTE_LANES and flags.flags.c_contiguous:
        lanes = flags.view(np.uint64).sum(axis=1, dtype=np.uint64)
        result: np.ndarray = lanes.view(np.uint8).reshape(n, 8).sum(axis=1, dtype=np.int64)
        return result
    result = flags.sum(axis=1, dtype=np.int64)
    return result
