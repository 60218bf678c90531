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


def extreme_counts(x: np.ndarray) -> dict[str, np.ndarray]:
    """Counts at the finite max / min and their order keys for each row of ``(leaves, pixels)``.

    Rows are reduced in the same cache-sized pieces as the other statistics; when a row is cut
    into several pieces, a later piece with a larger maximum replaces the running count and an
    equal one adds to it (likewise for the minimum).
    """
    if x.dtype == np.bool_:
        x = x.view(np.uint8)
    n = len(x)
    acc = _Running(n)
    for rows, cols in pieces(n, x.shape[1]):
        if cols.stop > cols.start:
            acc.update(rows, *_piece_extremes(x[rows, cols]))
    return {
        "count_at_max": acc.n_hi,
        "count_at_min": acc.n_lo,
        MAX_KEY: acc.hi,
        MIN_KEY: acc.lo,
    }


class _Running:
    """Best key and its count so far, per row, for both ends."""

    def __init__(self, n: int) -> None:
        self.hi = np.full(n, _I64.min, dtype=np.int64)
        self.lo = np.full(n, _I64.max, dtype=np.int64)
        self.n_hi = np.zeros(n, dtype=np.int64)
        self.n_lo = np.zeros(n, dtype=np.int64)

    def update(
        self, rows: slice, hi: np.ndarray, n_hi: np.ndarray, lo: np.ndarray, n_lo: np.ndarray
    ) -> None:
        """Merge one piece's extremes (keys) and counts into ``rows``."""
        self.n_hi[rows] = _merge(self.hi[rows], self.n_hi[rows], hi, n_hi, np.greater)
        np.maximum(self.hi[rows], hi, out=self.hi[rows])
        self.n_lo[rows] = _merge(self.lo[rows], self.n_lo[rows], lo, n_lo, np.less)
        np.minimum(self.lo[rows], lo, out=self.lo[rows])


def _merge(
    key: np.ndarray, count: np.ndarray, new_key: np.ndarray, new_count: np.ndarray, beats: np.ufunc
) -> np.ndarray:
    return np.where(beats(new_key, key), new_count, np.where(new_key == key, count + new_count, count))


def _piece_extremes(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(max key, count at max, min key, count at min) of each row of a small piece."""
    with np.errstate(invalid="ignore"):
        hi, lo = p.max(axis=1), p.min(axis=1)
    if p.dtype.kind == "f" and not (np.isfinite(hi).all() and np.isfinite(lo).all()):
        fin = np.isfinite(p)
        hi = np.where(fin, p, -np.inf).max(axis=1)
        lo = np.where(fin, p, np.inf).min(axis=1)
        none = ~fin.any(axis=1)
        n_hi = np.count_nonzero(fin & (p == hi[:, None]), axis=1)
        n_lo = np.count_nonzero(fin & (p == lo[:, None]), axis=1)
        hi_key = np.where(none, _I64.min, order_keys(hi))
        lo_key = np.where(none, _I64.max, order_keys(lo))
        return hi_key, n_hi.astype(np.int64), lo_key, n_lo.astype(np.int64)
    n_hi = np.count_nonzero(p == hi[:, None], axis=1).astype(np.int64)
    n_lo = np.count_nonzero(p == lo[:, None], axis=1).astype(np.int64)
    return order_keys(hi), n_hi, order_keys(lo), n_lo
