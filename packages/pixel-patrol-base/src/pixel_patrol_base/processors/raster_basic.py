"""``raster-basic``: min, max, mean, population std and finite count of each leaf block.

It also counts the pixels at the block's max and min (``count_at_max`` / ``count_at_min``,
computed in :mod:`~pixel_patrol_base.processors._extremes`), which saturation checks need.

NaN and ±Inf are excluded from every statistic: an Inf would make the mean and std meaningless
for the whole block, and NaN usually marks missing data. Min/max are reduced in the native
dtype (exact); sums and squared deviations are accumulated in float64 with a two-pass
algorithm (mean first, then Σ(x - mean)²), which stays accurate when the mean is large
compared with the spread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa

from pixel_patrol_base.contracts import Agg, Column, LeafStack
from pixel_patrol_base.processors import _extremes
from pixel_patrol_base.processors._pixels import Workspace, check_real, flat_leaves, pieces

F64 = pa.float64()


class RasterBasic:
    """Leaf processor for the basic intensity statistics."""

    NAME: ClassVar[str] = "raster-basic"
    KIND: ClassVar[Literal["leaf"]] = "leaf"
    NEEDS_RANGE: ClassVar[bool] = False
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
    )

    def run(self, stack: LeafStack) -> Mapping[str, np.ndarray]:
        """Statistics of every leaf of ``stack``; float columns use NaN for "no finite value"."""
        check_real(stack.data.dtype)
        flat = flat_leaves(stack.data)
        return {**basic_stats(flat), **_extremes.extreme_counts(flat)}


def basic_stats(x: np.ndarray) -> dict[str, np.ndarray]:
    """Per-row statistics of a 2-D array ``(leaves, pixels)`` over its finite values.

    Rows are reduced in cache-sized pieces: each piece gets an exact two-pass mean and sum of
    squared deviations, and pieces of one row are merged with Chan's pairwise update, which
    stays accurate when the mean is large compared with the spread.
    """
    if x.dtype == np.bool_:
        x = x.view(np.uint8)
    n, width = x.shape
    acc = _Moments.empty(n)
    ws = Workspace()
    plan = pieces(n, width)
    if plan[0][1].stop - plan[0][1].start < width:
        _merge_cut_rows(x, [cols for rows, cols in plan if rows.start == 0], acc, ws)
    else:
        for rows, cols in plan:
            if cols.stop > cols.start:
                acc.assign(rows, _piece_moments(x[rows, cols], ws))
    none = acc.count == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        std = np.sqrt(acc.m2 / acc.count)
    return {
        "min_intensity": np.where(none, np.nan, acc.lo),
        "max_intensity": np.where(none, np.nan, acc.hi),
        "mean_intensity": np.where(none, np.nan, acc.mean),
        "std_intensity": np.where(none, np.nan, std),
        "finite_pixel_count": acc.count,
    }


def _merge_cut_rows(x: np.ndarray, col_pieces: list[slice], acc: _Moments, ws: Workspace) -> None:
    """Moments of rows longer than a piece: column pieces merged into ``acc`` left to right.

    The moments of column piece j are gathered for every row first and then merged into all
    rows with one vectorised update, instead of one tiny-array update per (row, piece): the
    arithmetic per row, and so every bit of the result, is the same, with far less overhead.
    """
    n = len(x)
    for cols in col_pieces:
        part = _Moments.empty(n)
        for r in range(n):
            part.assign(slice(r, r + 1), _piece_moments(x[r : r + 1, cols], ws))
        acc.merge(slice(None), part)


@dataclass(slots=True)
class _Moments:
    """Finite count, min, max, mean and Σ(x - mean)² per row."""

    count: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    mean: np.ndarray
    m2: np.ndarray

    @classmethod
    def empty(cls, n: int) -> _Moments:
        """Moments of ``n`` rows that have seen no value yet."""
        inf = np.full(n, np.inf)
        return cls(np.zeros(n, np.int64), inf, -inf, np.zeros(n), np.zeros(n))

    def assign(self, rows: slice, other: _Moments) -> None:
        """Store the moments of whole rows (nothing to merge with)."""
        self.count[rows], self.lo[rows], self.hi[rows] = other.count, other.lo, other.hi
        self.mean[rows], self.m2[rows] = other.mean, other.m2

    def merge(self, rows: slice, other: _Moments) -> None:
        """Combine ``other`` (moments of some pixels of ``rows``) into these rows, in place."""
        na, nb = self.count[rows], other.count
        total = na + nb
        delta = other.mean - self.mean[rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, nb / total, 0.0)
        self.mean[rows] += delta * share
        self.m2[rows] += other.m2 + delta * delta * na * share
        self.count[rows] = total
        np.fmin(self.lo[rows], other.lo, out=self.lo[rows])
        np.fmax(self.hi[rows], other.hi, out=self.hi[rows])


def _piece_moments(p: np.ndarray, ws: Workspace) -> _Moments:
    """Moments of each row of a small 2-D piece (fast path when every value is finite)."""
    with np.errstate(invalid="ignore"):
        lo, hi = p.min(axis=1), p.max(axis=1)
    if p.dtype.kind == "f" and not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        return _masked_moments(p)
    count = np.full(len(p), p.shape[1], dtype=np.int64)
    d = ws.get("deviation", np.float64, p.shape)
    if _exact_sums(p.dtype):
        np.copyto(d, p)
        mean = d.sum(axis=1) / p.shape[1]
        d -= mean[:, None]
    else:
        mean = p.sum(axis=1, dtype=np.float64) / p.shape[1]
        np.subtract(p, mean[:, None], out=d)
    m2 = np.einsum("ij,ij->i", d, d)
    return _Moments(count, lo.astype(np.float64), hi.astype(np.float64), mean, m2)


def _exact_sums(dtype: np.dtype) -> bool:
    """Whether a piece sums exactly in float64 whatever the order (integers up to 32 bits).

    Then the sum can be taken from the float64 copy the deviations are computed in, which
    saves a second cast of the pixels and gives the same bits as summing the pixels directly;
    float and 64-bit sums round, so their order (and therefore the code path) is kept.
    """
    return dtype.kind in "iu" and dtype.itemsize <= 4


def _masked_moments(p: np.ndarray) -> _Moments:
    """Moments over the finite values only (the piece contains NaN or ±Inf)."""
    fin = np.isfinite(p)
    count = fin.sum(axis=1).astype(np.int64)
    lo = np.where(fin, p, np.inf).min(axis=1).astype(np.float64)
    hi = np.where(fin, p, -np.inf).max(axis=1).astype(np.float64)
    mean = np.where(fin, p, 0).sum(axis=1, dtype=np.float64) / np.maximum(count, 1)
    d = np.where(fin, np.subtract(p, mean[:, None], dtype=np.float64), 0.0)
    m2 = np.einsum("ij,ij->i", d, d)
    return _Moments(count, lo, hi, mean, m2)
