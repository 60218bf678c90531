"""Compiled exact order statistics: counting for 8/16-bit keys, histogram selection otherwise.

Why compiled: in numpy, counting first copies the keys to 64-bit integers and runs the
cumulative count over all 65,536 levels, and selection needs a dozen whole-row passes (scale,
bin, count, mask each wanted bin, gather); either costs more than the basic statistics of a
plane. Here each row is read two or three times in one loop each. Every result is a value
stored in the row, so the route taken never changes it.
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_image._jit import compiled

SELECT_BINS = 4096
"""Histogram bins for selection: the bins holding the wanted ranks are a small fraction of
the row, and the counts of 4,097 bins stay in the core's cache."""


@compiled
def counted_ranks(
    keys: np.ndarray, levels: int, ranks: np.ndarray, out: np.ndarray, hist: np.ndarray
) -> None:
    """Values of the ascending ``ranks`` of every row of ``keys`` (``(b, n)`` uint8/uint16).

    Writes ``out[p, r]`` = the key of rank ``ranks[r]`` (0-based) in row ``p``. ``hist`` is
    an int64 count table of at least ``levels`` zeros, left zeroed: it is scanned and
    cleared only between each row's least and largest key, so a caller keeps one table
    (512 KB for 16-bit keys, whose zeroing cost more than counting a small plane).
    """
    for p in range(keys.shape[0]):
        row = keys[p]
        lo, hi = levels, -1
        for i in range(row.shape[0]):  # one pass: the scattered count dominates, not the compares
            k = int(row[i])
            hist[k] += 1
            lo = k if k < lo else lo
            hi = k if k > hi else hi
        v, below = lo, 0
        for r in range(ranks.shape[0]):
            while below + hist[v] <= ranks[r]:
                below += hist[v]
                v += 1
            out[p, r] = v
        hist[lo : hi + 1] = 0


@compiled
def selected_ranks(
    row: np.ndarray,
    half: np.floating,
    half_lo: np.floating,
    scale: np.floating,
    ranks: np.ndarray,
    out: np.ndarray,
) -> None:
    """Values of the ascending ``ranks`` of one row of finite numbers, into ``out`` (float64).

    The bin of ``x`` is ``floor((x * half - half_lo) * scale)`` with ``half = 1/2``,
    ``half_lo`` half the row minimum and ``scale = SELECT_BINS / (max/2 - min/2)``, all in
    the type of ``half``. Each rounded operation is monotone, so every value of a lower bin
    is at most every value of a higher bin, and the value of rank ``k`` is found by sorting
    only the bin that the cumulative counts put it in (the maximum may round one bin up).
    """
    counts = np.zeros(SELECT_BINS + 2, dtype=np.int64)
    for i in range(row.shape[0]):
        counts[np.int64((row[i] * half - half_lo) * scale)] += 1
    wanted = np.zeros(ranks.shape[0], dtype=np.int64)
    start = np.zeros(ranks.shape[0], dtype=np.int64)
    j, below = 0, 0
    for r in range(ranks.shape[0]):
        while below + counts[j] <= ranks[r]:
            below += counts[j]
            j += 1
        wanted[r], start[r] = j, below
    values, offset = _gather_bins(row, half, half_lo, scale, counts, wanted)
    for r in range(ranks.shape[0]):
        out[r] = np.float64(values[offset[wanted[r]] + ranks[r] - start[r]])


@compiled
def _gather_bins(
    row: np.ndarray,
    half: np.floating,
    half_lo: np.floating,
    scale: np.floating,
    counts: np.ndarray,
    wanted: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The values of the ``wanted`` bins in one pass, each bin's values sorted in place.

    Returns the values, bin after bin in ascending order, and per bin the offset of its
    values (meaningful for wanted bins only).
    """
    offset = np.full(counts.shape[0], -1, dtype=np.int64)
    total = 0
    for j in wanted:  # ascending, with repeats
        if offset[j] < 0:
            offset[j] = total
            total += counts[j]
    values = np.empty(total, dtype=row.dtype)
    fill = offset.copy()
    for i in range(row.shape[0]):
        j = np.int64((row[i] * half - half_lo) * scale)
        if fill[j] >= 0:
            values[fill[j]] = row[i]
            fill[j] += 1
    for r in range(wanted.shape[0]):
        if r == 0 or wanted[r] != wanted[r - 1]:  # each wanted bin once
            j = wanted[r]
            values[offset[j] : offset[j] + counts[j]].sort()
    return values, offset


@compiled
def count_levels(values: np.ndarray, flip: int, hist: np.ndarray) -> None:
    """Add the levels of a 2-D array of 8/16-bit unsigned views to ``hist``.

    ``flip`` is XOR-ed into every value (the sign bit of a signed type, else 0), which makes
    the order of the levels the order of the values. The array may be a strided view (a
    tile's own pixels inside its halo).
    """
    for i in range(values.shape[0]):
        row = values[i]
        for j in range(row.shape[0]):
            hist[int(row[j]) ^ flip] += 1
