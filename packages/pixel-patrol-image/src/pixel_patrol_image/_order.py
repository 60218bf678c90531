"""Exact order statistics (values of given ranks) of every row of a 2-D array.

Three routes, all returning the very values stored in the data, so a plane gets bit-identical
percentiles whichever route its batch takes: counting for 8/16-bit integers, selection through
a histogram for long rows of other types, and plain partitioning for short rows.
"""

from __future__ import annotations

import numpy as np

COUNTED_DTYPES = frozenset("bBhH?")
"""dtype.char of int8, uint8, int16, uint16 and bool: few enough levels for exact counting."""

SELECT_MIN = 1 << 15
"""Row length from which histogram selection beats partitioning the whole row."""

SELECT_BINS = 4096
"""Histogram bins for selection (the bin index fits uint16): the bins holding the wanted ranks
are a small fraction of the row."""


def order_statistics(flat: np.ndarray, ranks: list[int]) -> np.ndarray:
    """``(b, len(ranks))`` float64: the value of rank ``k`` (0-based) of every row.

    Every value must be finite (NaN has no rank).
    """
    counted = _counted(flat, ranks)
    if counted is not None:
        return counted
    if flat.shape[1] >= SELECT_MIN:
        return np.stack([_selected(row, ranks) for row in flat])
    part = np.partition(flat, sorted(set(ranks)), axis=1)
    return part[:, ranks].astype(np.float64)


def _counted(flat: np.ndarray, ranks: list[int]) -> np.ndarray | None:
    """Order statistics from cumulative counts, or ``None`` when counting does not pay."""
    if flat.dtype.char not in COUNTED_DTYPES:
        return None
    keys, shift = _unsigned_keys(flat)
    b, n = flat.shape
    span = int(keys.max()) + 1
    if b * span > 2 * b * n + (1 << 16):
        return None
    if b > 1:
        keys = keys.astype(np.int64) + (np.arange(b, dtype=np.int64) * span)[:, None]
    cum = np.cumsum(np.bincount(keys.ravel(), minlength=b * span))
    row = np.arange(b, dtype=np.int64)[:, None]
    targets = row * n + np.asarray(ranks, dtype=np.int64)[None, :]
    bins = np.searchsorted(cum, targets, side="right") - row * span
    return bins.astype(np.float64) - shift


def _unsigned_keys(flat: np.ndarray) -> tuple[np.ndarray, int]:
    """Order-preserving unsigned view of 8/16-bit integers and the shift it adds."""
    unsigned = np.dtype(f"u{flat.dtype.itemsize}")
    if flat.dtype.kind == "u" or flat.dtype == np.bool_:
        return flat.view(unsigned), 0
    bits = 8 * flat.dtype.itemsize
    return flat.view(unsigned) ^ np.array(1 << (bits - 1), dtype=unsigned), 1 << (bits - 1)


def _selected(row: np.ndarray, ranks: list[int]) -> np.ndarray:
    """Order statistics of one long row through a histogram of about ``SELECT_BINS`` bins.

    The bin index ``floor((x - min) * bins / (max - min))`` never decreases with ``x``
    (rounding to nearest is monotone), so every value of a lower bin is at most every value
    of a higher bin, and the value of rank ``k`` is found by partitioning only the bin that
    the cumulative counts put it in. A few fast passes instead of a full partition; the
    maximum may round into one extra bin.
    """
    lo, hi = row.min(), row.max()
    if not lo < hi:
        return np.full(len(ranks), float(lo))
    wide = np.float32 if row.dtype == np.float32 else np.float64
    half_lo = wide(lo) * wide(0.5)  # halves: the span of any two finite values is finite
    span = wide(hi) * wide(0.5) - half_lo
    if not span > wide(SELECT_BINS) / np.finfo(wide).max:  # subnormal spans: no scale
        return np.partition(row, sorted(set(ranks)))[ranks].astype(np.float64)
    scale = wide(SELECT_BINS) / span
    index = np.multiply(row, wide(0.5), dtype=wide)
    index -= half_lo
    index *= scale
    index = index.astype(np.uint16)
    cum = np.cumsum(np.bincount(index, minlength=SELECT_BINS + 1))
    wanted = np.searchsorted(cum, ranks, side="right")
    bins = np.unique(wanted)
    chosen = index == bins[0]
    for j in bins[1:]:
        chosen |= index == j
    values, where = row[chosen], index[chosen]
    out = np.empty(len(ranks))
    for j in bins:
        below = int(cum[j - 1]) if j else 0
        local = [k - below for k, w in zip(ranks, wanted, strict=True) if w == j]
        part = np.partition(values[where == j], sorted(set(local)))
        for i, (k, w) in enumerate(zip(ranks, wanted, strict=True)):
            if w == j:
                out[i] = part[k - below]
    return out
