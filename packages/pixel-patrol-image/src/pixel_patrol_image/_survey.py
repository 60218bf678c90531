"""Exact order statistics of a plane seen tile by tile: radix selection on merged histograms.

A plane too large for one piece of work still needs its exact percentiles and median
(:mod:`pixel_patrol_image._stats`). Every finite value is mapped to an unsigned integer *key*
of 16, 32 or 64 bits whose order is the order of the values (integers: the sign bit flipped;
floats: the IEEE bits, negative ones inverted), so that exact selection becomes counting:

* pass 0 counts the values of every tile by the top 16 bits of their key (a histogram of
  65,536 bins; tiles' histograms add up exactly) and finds, for each wanted rank, the bin
  that holds it;
* each further pass counts, among the values whose key starts with a found prefix, the next
  16 bits, and narrows every wanted rank to one longer prefix.

8- and 16-bit types (and float16) are done after one pass, 32-bit types after two and 64-bit
types after four. The result is the very value stored in the plane, whichever tiles the
plane was cut into and in whatever order they were counted. Memory: one key per pixel of a
tile and at most one 65,536-bin histogram per distinct prefix (seven ranks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from pixel_patrol_image._stats import PlaneStats, ranks_for, stats_from_ranks

DIGIT = 16
"""Key bits counted per pass."""

BINS = 1 << DIGIT

Sparse = tuple[np.ndarray, np.ndarray]
"""A histogram as its nonzero bins (ascending uint32) and their counts (int64)."""

Partial = tuple[int, dict[int, Sparse]]
"""A survey partial: finite values counted, and a sparse histogram per key prefix."""


def sparse(hist: np.ndarray) -> Sparse:
    """The nonzero bins of a dense histogram."""
    bins = np.flatnonzero(hist).astype(np.uint32)
    return bins, hist[bins].astype(np.int64)


def dense(h: Sparse) -> np.ndarray:
    """A sparse histogram as :data:`BINS` counts."""
    out = np.zeros(BINS, dtype=np.int64)
    out[h[0].astype(np.intp)] = h[1]
    return out


def add(histograms: Sequence[Sparse]) -> Sparse:
    """Sum of sparse histograms (exact)."""
    if len(histograms) == 1:
        return histograms[0]
    bins = np.concatenate([h[0] for h in histograms])
    counts = np.concatenate([h[1] for h in histograms])
    keys, where = np.unique(bins, return_inverse=True)
    total = np.zeros(len(keys), dtype=np.int64)
    np.add.at(total, where, counts)
    return keys.astype(np.uint32), total


def key_bits(dtype: np.dtype) -> int:
    """Width of the order-preserving key of a pixel type."""
    return max(DIGIT, 8 * np.dtype(dtype).itemsize)


def to_keys(values: np.ndarray) -> np.ndarray:
    """Order-preserving unsigned keys of finite values (bool as 0/1)."""
    v = values.view(np.uint8) if values.dtype == np.bool_ else values
    bits = key_bits(v.dtype)
    unsigned = np.dtype(f"u{bits // 8}")
    if v.dtype.kind == "u":
        return v.astype(unsigned)
    sign = unsigned.type(1 << (8 * v.dtype.itemsize - 1))
    raw = v.view(np.dtype(f"u{v.dtype.itemsize}")).astype(unsigned)
    if v.dtype.kind == "i":
        result: np.ndarray = raw ^ sign
        return result
    return np.where((raw & sign) != 0, ~raw, raw | sign)  # floats are 16, 32 or 64 bits wide


def from_keys(keys: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The values of keys made by :func:`to_keys` for ``dtype``."""
    dt = np.dtype(dtype)
    store = np.dtype(f"u{dt.itemsize}") if dt != np.bool_ else np.dtype(np.uint8)
    k = np.asarray(keys).astype(store)
    if dt == np.bool_:
        return k.view(np.bool_)
    if dt.kind == "u":
        return k.view(dt)
    sign = store.type(1 << (8 * dt.itemsize - 1))
    if dt.kind == "i":
        return (k ^ sign).view(dt)
    positive = (k & sign) != 0
    return np.where(positive, k ^ sign, ~k).astype(store).view(dt)


def _levels(values: np.ndarray) -> Partial:
    """Pass 0 of an 8/16-bit integer type, counted in one compiled loop (no key copies)."""
    from pixel_patrol_image._order_kernels import count_levels

    v = values.view(np.uint8) if values.dtype == np.bool_ else values
    unsigned = v.view(np.dtype(f"u{v.dtype.itemsize}"))
    flip = 1 << (8 * v.dtype.itemsize - 1) if v.dtype.kind == "i" else 0
    hist = np.zeros(BINS, dtype=np.int64)
    count_levels(unsigned if unsigned.ndim == 2 else unsigned.reshape(1, -1), flip, hist)
    return int(unsigned.size), {0: sparse(hist)}


@dataclass(frozen=True, slots=True)
class Survey:
    """The state of an exact order-statistics survey of one plane between passes.

    Attributes
    ----------
    dtype
        Pixel type.
    level
        Passes done (each counted :data:`DIGIT` more key bits).
    count
        Finite values of the plane (known after pass 0).
    prefixes, below
        Per wanted rank (see :data:`pixel_patrol_image._stats.RANKS`): the key prefix of
        ``level * DIGIT`` bits it lies in, and how many values have a smaller prefix.
    """

    dtype: str
    level: int = 0
    count: int = 0
    prefixes: tuple[int, ...] = ()
    below: tuple[int, ...] = ()

    @property
    def done(self) -> bool:
        """Whether every wanted value is known exactly."""
        return self.level * DIGIT >= key_bits(np.dtype(self.dtype))

    def visit(self, values: np.ndarray) -> Partial:
        """Partial of one tile's own pixels: finite count and histograms per prefix."""
        if values.dtype.itemsize <= 2 and values.dtype.kind in "biu":
            return _levels(values)
        flat = values.reshape(-1)
        if flat.dtype.kind == "f":
            flat = flat[np.isfinite(flat)]
        keys = to_keys(flat)
        bits = key_bits(np.dtype(self.dtype))
        shift = bits - DIGIT * (self.level + 1)
        if self.level == 0:
            digits = (keys >> keys.dtype.type(shift)).astype(np.intp)
            return len(keys), {0: sparse(np.bincount(digits, minlength=BINS))}
        out = {}
        head = keys >> keys.dtype.type(bits - DIGIT * self.level)
        for prefix in sorted(set(self.prefixes)):
            chosen = keys[head == keys.dtype.type(prefix)]
            digits = ((chosen >> chosen.dtype.type(shift)) & chosen.dtype.type(BINS - 1)).astype(np.intp)
            out[prefix] = sparse(np.bincount(digits, minlength=BINS))
        return len(keys), out

    @staticmethod
    def merge(partials: Sequence[Partial]) -> Partial:
        """Sum of several tiles' partials (exact)."""
        count = sum(p[0] for p in partials)
        grouped: dict[int, list[Sparse]] = {}
        for _, h in partials:
            for prefix, counts in h.items():
                grouped.setdefault(prefix, []).append(counts)
        return count, {prefix: add(hs) for prefix, hs in grouped.items()}

    def advance(self, merged: Partial) -> Survey:
        """The survey after one more pass, from the merged partial of every tile."""
        count, hists = merged
        if self.level == 0:
            targets = ranks_for(count)[0] if count else [0] * 7
            prefixes, below = [0] * len(targets), [0] * len(targets)
        else:
            targets = ranks_for(self.count)[0]
            prefixes, below = list(self.prefixes), list(self.below)
            count = self.count
        if count == 0:
            return replace(self, level=self.level + 1, count=0, prefixes=tuple(prefixes), below=tuple(below))
        for i, rank in enumerate(targets):
            cumulative = np.cumsum(dense(hists[prefixes[i]]))
            digit = int(np.searchsorted(cumulative, rank - below[i], side="right"))
            below[i] += int(cumulative[digit - 1]) if digit else 0
            prefixes[i] = (prefixes[i] << DIGIT) | digit
        return replace(self, level=self.level + 1, count=count, prefixes=tuple(prefixes), below=tuple(below))

    def stats(self) -> PlaneStats:
        """The plane's statistics once :attr:`done`."""
        dtype = np.dtype(self.dtype)
        if self.count == 0:
            return stats_from_ranks(np.zeros((1, 7), dtype=dtype), np.zeros(1))
        unsigned = np.dtype(f"u{key_bits(dtype) // 8}")
        keys = np.array(self.prefixes, dtype=np.uint64).astype(unsigned)
        return stats_from_ranks(from_keys(keys, dtype)[None], np.array([float(self.count)]))


__all__ = ["BINS", "DIGIT", "Partial", "Sparse", "Survey", "add", "dense", "from_keys", "key_bits", "sparse", "to_keys"]
