"""``raster-basic``: min, max, mean, population std and finite count of each leaf block.

It also counts the pixels at the block's max and min (``count_at_max`` / ``count_at_min``,
computed in :mod:`~pixel_patrol_base.processors._extremes`), which saturation checks need.

NaN and ±Inf are excluded from every statistic: an Inf would make the mean and std meaningless
for the whole block, and NaN usually marks missing data. Min/max are reduced in the native
dtype (exact); sums and squared deviations are accumulated in float64 with a two-pass
algorithm (mean first, then Σ(x - mean)²) on deviations from a reference value of each row,
which stays accurate when the mean is large compared with the spread (exact differences for
64-bit integers). Values near the float64 limits and subnormal values are summed in a
power-of-two frame. The mean's rounding error travels in an internal column so that coarser
rows pool exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa

from pixel_patrol_base.contracts import Agg, Column, LeafStack
from pixel_patrol_base.processors import _extremes
from pixel_patrol_base.processors._census import Census, Levels, level_census, rows_of
from pixel_patrol_base.processors._pixels import (
    Workspace,
    check_real,
    flat_leaves,
    pieces,
    thread_workspace,
)

F64 = pa.float64()


class RasterBasic:
    """Leaf processor for the basic intensity statistics."""

    NAME: ClassVar[str] = "raster-basic"
    KIND: ClassVar[Literal["leaf"]] = "leaf"
    NEEDS_RANGE: ClassVar[bool] = False
    LIBRARIES: ClassVar[tuple[str, ...]] = ("numpy",)
    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column(
            "min_intensity",
            F64,
            "Smallest finite pixel value (NaN and ±Inf excluded); null if none.",
            Agg.MIN,
        ),
        Column(
            "max_intensity",
            F64,
            "Largest finite pixel value (NaN and ±Inf excluded); null if none.",
            Agg.MAX,
        ),
        Column(
            "mean_intensity",
            F64,
            "Mean of the finite pixel values; null if none.",
            Agg.MEAN,
            weight="finite_pixel_count",
            residual="mean_intensity_residual",
        ),
        Column(
            "std_intensity",
            F64,
            "Population standard deviation (ddof 0) of the finite pixel values; null if none.",
            Agg.STD,
            weight="finite_pixel_count",
            mean="mean_intensity",
        ),
        Column(
            "finite_pixel_count",
            pa.int64(),
            "Number of pixel values that are neither NaN nor ±Inf.",
            Agg.SUM,
        ),
        *_extremes.COLUMNS,
        Column(
            "mean_intensity_residual",
            F64,
            "Exact mean minus mean_intensity (what float64 cannot hold); rollup only.",
            Agg.FIRST,
            internal=True,
        ),
    )

    def run(self, stack: LeafStack) -> Mapping[str, np.ndarray]:
        """Statistics of every leaf of ``stack``; float columns use NaN for "no finite value"."""
        check_real(stack.data.dtype)
        flat = flat_leaves(stack.data)
        census = level_census(stack)
        return {**basic_stats(flat, census), **_extremes.extreme_counts(flat, census)}


def basic_stats(x: np.ndarray, census: Census | None = None) -> dict[str, np.ndarray]:
    """Per-row statistics of a 2-D array ``(leaves, pixels)`` over its finite values.

    Rows are reduced in cache-sized pieces: each piece gets an exact two-pass mean and sum of
    squared deviations, and pieces of one row are merged with Chan's pairwise update, which
    stays accurate when the mean is large compared with the spread. Pieces with level counts
    in ``census`` (8/16-bit pixels, see ``_census``) take their moments from the counts:
    exact integer sums, so the mean and the squared deviations are correctly rounded.
    """
    census = census or {}
    if x.dtype == np.bool_:
        x = x.view(np.uint8)
    n, width = x.shape
    ws = thread_workspace("raster-basic")
    ref = _references(x)
    plan = pieces(n, width)
    if len(plan) == 1 and width > 0:  # one piece holds every row: its moments are the rows'
        acc = _piece_moments(x, ref, ws, rows_of(census, slice(0, n), plan[0][1]))
    elif plan[0][1].stop - plan[0][1].start < width:
        acc = _Moments.empty(n)
        first_row = [cols for rows, cols in plan if rows.start == 0]
        _merge_cut_rows(x, ref, first_row, acc, ws, census)
    else:
        acc = _Moments.empty(n)
        for rows, cols in plan:
            if cols.stop > cols.start:
                levels = rows_of(census, rows, cols)
                acc.assign(rows, _piece_moments(x[rows, cols], _rows_of(ref, rows), ws, levels))
    with np.errstate(invalid="ignore", divide="ignore"):
        std = np.sqrt(acc.m2 / acc.count)
    framed = bool(acc.frame.any())
    if framed:
        std = np.ldexp(std, -acc.frame)
    mean, residual = _mean_parts(ref, acc, framed)
    none = acc.count == 0
    if not none.any():  # every row has a value: nothing to blank out
        return {
            "min_intensity": acc.lo,
            "max_intensity": acc.hi,
            "mean_intensity": mean,
            "std_intensity": std,
            "finite_pixel_count": acc.count,
            "mean_intensity_residual": residual,
        }
    return {
        "min_intensity": np.where(none, np.nan, acc.lo),
        "max_intensity": np.where(none, np.nan, acc.hi),
        "mean_intensity": np.where(none, np.nan, mean),
        "std_intensity": np.where(none, np.nan, std),
        "finite_pixel_count": acc.count,
        "mean_intensity_residual": np.where(none, 0.0, residual),
    }


def _references(x: np.ndarray) -> np.ndarray | None:
    """Per row, the value its deviations are counted from, or ``None`` (exact sums).

    32- and 64-bit integers count from their first value, exactly in integer arithmetic, so
    values such as 2**60 + 1 keep their spread although float64 cannot hold them; floats count from
    a finite value near the start of the row (0 if there is none), so a large common level
    (2**48 + a few units) costs no precision. The mean is then ``reference + mean of the
    deviations``, reported as a float64 and the residual float64 cannot hold.
    """
    if x.shape[1] == 0 or x.dtype.kind == "b" or (x.dtype.kind in "iu" and x.dtype.itemsize <= 2):
        return None
    if x.dtype.kind in "iu":
        return x[:, 0].copy()
    head = x[:, : min(x.shape[1], 64)]
    finite = np.isfinite(head)
    first = head[np.arange(len(x)), np.argmax(finite, axis=1)]
    return np.where(finite.any(axis=1), first, 0).astype(x.dtype)


def _mean_parts(
    ref: np.ndarray | None, acc: _Moments, framed: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's mean as a float64 and the residual (exact mean minus it)."""
    if ref is None:
        return (np.ldexp(acc.mean, -acc.frame) if framed else acc.mean), np.zeros(len(acc.mean))
    if ref.dtype.kind in "iu":
        base = ref.astype(np.float64)
        error = np.array([float(int(r) - int(b)) for r, b in zip(ref.tolist(), base.tolist(), strict=True)])
        hi, lo = _two_sum(base, acc.mean)
        return _two_sum(hi, lo + error)
    with np.errstate(over="ignore"):
        hi, lo = _two_sum(np.ldexp(ref.astype(np.float64), acc.frame), acc.mean)
        return np.ldexp(hi, -acc.frame), np.ldexp(lo, -acc.frame)


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a + b`` rounded and its exact rounding error (Knuth's TwoSum)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _rows_of(ref: np.ndarray | None, rows: slice) -> np.ndarray | None:
    return None if ref is None else ref[rows]


def _merge_cut_rows(
    x: np.ndarray,
    ref: np.ndarray | None,
    col_pieces: list[slice],
    acc: _Moments,
    ws: Workspace,
    census: Census,
) -> None:
    """Moments of rows longer than a piece: column pieces merged into ``acc`` left to right.

    The moments of every column piece are gathered first. Rows in the ordinary frame (every
    piece's frame 0) are then merged in Python floats, which perform the same IEEE operations
    as :meth:`_Moments.merge` in the same order, so every bit is the same, without the cost
    of a dozen tiny-array operations per piece; framed rows take the vectorised update.
    """
    n = len(x)
    parts = [_cut_piece(x, ref, cols, ws, census) for cols in col_pieces]
    if any(p.frame.any() for p in parts):
        for part in parts:
            acc.merge(slice(None), part)
        return
    columns = [(p.count.tolist(), p.mean.tolist(), p.m2.tolist()) for p in parts]
    for r in range(n):
        row = [(c[r], m[r], q[r]) for c, m, q in columns]
        acc.count[r], acc.mean[r], acc.m2[r] = _fold_row(row)
    for part in parts:
        np.fmin(acc.lo, part.lo, out=acc.lo)
        np.fmax(acc.hi, part.hi, out=acc.hi)


def _cut_piece(
    x: np.ndarray, ref: np.ndarray | None, cols: slice, ws: Workspace, census: Census
) -> _Moments:
    """Moments of column piece ``cols`` of every row (rows one at a time: bounded memory)."""
    if len(x) == 1:
        return _piece_moments(x[:, cols], ref, ws, rows_of(census, slice(0, 1), cols))
    part = _Moments.empty(len(x))
    for r in range(len(x)):
        row = slice(r, r + 1)
        levels = rows_of(census, row, cols)
        part.assign(row, _piece_moments(x[row, cols], _rows_of(ref, row), ws, levels))
    return part


def _fold_row(pieces_: list[tuple[int, float, float]]) -> tuple[int, float, float]:
    """Count, mean and m2 of one row from its pieces', merged left to right from nothing.

    The arithmetic of :meth:`_Moments.merge` with every frame 0 (``ldexp`` by 0 is exact),
    in the same order: ``nb / total`` of two integers below 2**53 rounds like the float64
    division numpy performs, and ``delta * delta * na`` converts ``na`` exactly.
    """
    count, mean, m2 = 0, 0.0, 0.0
    for nb, mean_b, m2_b in pieces_:
        total = count + nb
        delta = mean_b - mean
        share = nb / total if total > 0 else 0.0
        mean = mean + delta * share
        m2 = m2 + m2_b + delta * delta * count * share
        count = total
    return count, mean, m2


@dataclass(slots=True)
class _Moments:
    """Finite count, min, max, mean and Σ(x - mean)² per row.

    ``mean`` and ``m2`` are in *frame units*: the values times ``2**frame``, a per-row power
    of two that is 0 for ordinary data and brings values near the float64 limits or subnormal
    values to about 1, so that neither their squares nor their sums overflow or underflow.
    For 64-bit integers they count from the row's reference value (see :func:`_references`).
    """

    count: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    frame: np.ndarray

    @classmethod
    def empty(cls, n: int) -> _Moments:
        """Moments of ``n`` rows that have seen no value yet."""
        inf = np.full(n, np.inf)
        zeros = np.zeros(n, np.int64)
        return cls(np.zeros(n, np.int64), inf, -inf, np.zeros(n), np.zeros(n), zeros)

    def assign(self, rows: slice, other: _Moments) -> None:
        """Store the moments of whole rows (nothing to merge with)."""
        self.count[rows], self.lo[rows], self.hi[rows] = other.count, other.lo, other.hi
        self.mean[rows], self.m2[rows], self.frame[rows] = other.mean, other.m2, other.frame

    def merge(self, rows: slice, other: _Moments) -> None:
        """Combine ``other`` (moments of some pixels of ``rows``) into these rows, in place.

        Both sides are first brought into the frame of the larger values (a rows without
        values yet takes the other's frame).
        """
        na, nb = self.count[rows], other.count
        frame = np.where(na == 0, other.frame, np.where(nb == 0, self.frame[rows], np.minimum(self.frame[rows], other.frame)))
        mean_a = np.ldexp(self.mean[rows], frame - self.frame[rows])
        m2_a = np.ldexp(self.m2[rows], 2 * (frame - self.frame[rows]))
        mean_b = np.ldexp(other.mean, frame - other.frame)
        m2_b = np.ldexp(other.m2, 2 * (frame - other.frame))
        total = na + nb
        delta = mean_b - mean_a
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, nb / total, 0.0)
        self.mean[rows] = mean_a + delta * share
        self.m2[rows] = m2_a + m2_b + delta * delta * na * share
        self.frame[rows] = frame
        self.count[rows] = total
        np.fmin(self.lo[rows], other.lo, out=self.lo[rows])
        np.fmax(self.hi[rows], other.hi, out=self.hi[rows])


FRAME_LIMIT = 2.0**500
"""Float values whose magnitude is beyond this (or below its inverse) are moved into a frame."""


def _frames(lo: np.ndarray, hi: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Per row, ``f`` with ``max |x| * 2**f`` near 1 for extreme float rows, else 0."""
    if dtype.kind != "f":
        return np.zeros(len(lo), np.int64)
    with np.errstate(invalid="ignore"):
        big = np.fmax(np.abs(lo.astype(np.float64)), np.abs(hi.astype(np.float64)))
    extreme = np.isfinite(big) & (big > 0) & ((big > FRAME_LIMIT) | (big < 1 / FRAME_LIMIT))
    return np.where(extreme, -np.frexp(np.where(extreme, big, 1.0))[1], 0).astype(np.int64)


def _piece_moments(
    p: np.ndarray, ref: np.ndarray | None, ws: Workspace, levels: list[Levels] | None = None
) -> _Moments:
    """Moments of each row of a small 2-D piece (fast path when every value is finite); from
    the rows' level counts when given."""
    if levels is not None:
        return _level_moments(levels)
    with np.errstate(invalid="ignore"):
        lo, hi = p.min(axis=1), p.max(axis=1)
    if p.dtype.kind == "f" and not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        return _masked_moments(p, ref)
    count = np.full(len(p), p.shape[1], dtype=np.int64)
    frame = _frames(lo, hi, p.dtype)
    d = ws.get("deviation", np.float64, p.shape)
    n = p.shape[1]
    if ref is None:
        np.copyto(d, p)
    elif p.dtype.kind in "iu" and p.dtype.itemsize == 8:
        _exact_deviations(p, ref, d)
    elif p.dtype.kind in "iu":
        np.subtract(p, ref[:, None], out=d, dtype=np.float64)
    elif frame.any():
        np.ldexp(p, frame[:, None], out=d)
        d -= np.ldexp(ref.astype(np.float64), frame)[:, None]
    else:
        np.subtract(p, ref[:, None], out=d, dtype=np.float64)
    mean = d.sum(axis=1) / n
    d -= mean[:, None]
    m2 = np.einsum("ij,ij->i", d, d)
    lo64, hi64 = lo.astype(np.float64), hi.astype(np.float64)
    return _Moments(count, lo64, hi64, mean, np.maximum(m2, 0.0), frame)


def _level_moments(levels: list[Levels]) -> _Moments:
    """Moments of the rows of a piece from their level counts, correctly rounded: the sums
    are exact integers, and Python divides integers with one rounding. The mean is the one
    the pixel path gives (its float64 sum of such values is exact too)."""
    count, mean, m2 = [], [], []
    for row in levels:
        n, first, second = row.sums()
        count.append(n)
        mean.append((row.base * n + first) / n)
        m2.append((n * second - first * first) / n)
    lo = np.array([row.base for row in levels], np.float64)
    hi = np.array([row.top for row in levels], np.float64)
    frame = np.zeros(len(levels), np.int64)
    return _Moments(np.array(count, np.int64), lo, hi, np.array(mean), np.array(m2), frame)


def _exact_deviations(p: np.ndarray, ref: np.ndarray, out: np.ndarray) -> None:
    """``p - ref`` of 64-bit integers, exact in modular uint64 arithmetic, into float64 ``out``."""
    u = p.astype(np.uint64)
    r = ref.astype(np.uint64)[:, None]
    up = np.where(p >= ref[:, None], u - r, r - u).astype(np.float64)
    np.copyto(out, np.where(p >= ref[:, None], up, -up))


def _masked_moments(p: np.ndarray, ref: np.ndarray | None) -> _Moments:
    """Moments over the finite values only (the piece contains NaN or ±Inf)."""
    fin = np.isfinite(p)
    count = fin.sum(axis=1).astype(np.int64)
    lo = np.where(fin, p, np.inf).min(axis=1).astype(np.float64)
    hi = np.where(fin, p, -np.inf).max(axis=1).astype(np.float64)
    frame = _frames(np.where(count > 0, lo, 0.0), np.where(count > 0, hi, 0.0), p.dtype)
    base = np.zeros(len(p)) if ref is None else np.ldexp(ref.astype(np.float64), frame)
    with np.errstate(invalid="ignore", over="ignore"):
        x = np.where(fin, np.ldexp(p.astype(np.float64), frame[:, None]) - base[:, None], 0.0)
    mean = x.sum(axis=1) / np.maximum(count, 1)
    d = np.where(fin, x - mean[:, None], 0.0)
    m2 = np.einsum("ij,ij->i", d, d)  # the arithmetic of _piece_moments: same bits for finite rows
    return _Moments(count, lo, hi, mean, m2, frame)


__all__ = ["RasterBasic"]
