"""``raster-histogram``: a 256-bin histogram per leaf block with one set of edges per image.

Edge rule (chosen once per image from its dtype and finite value range, so every row of an
image shares the same bins and coarser rows are plain sums of leaf counts):

* ``uint8``, ``int8`` and ``bool``: one bin per level over the dtype range, [0, 256) or
  [-128, 128).
* other integers: bins of integer width ``w = max(1, ceil((max - min + 1) / 256))`` starting at
  the image minimum; bin k holds the integers ``min + k*w .. min + (k+1)*w - 1``. Counts are
  exact, and 64-bit values are binned without overflow.
* floats: 256 equal bins over the finite [min, max] with edges ``numpy.linspace(min, max, 257)``
  (``2 * numpy.linspace(min / 2, max / 2, 257)`` when ``max - min`` overflows float64);
  bin k is [e_k, e_k+1), the last bin is closed. Counts equal ``numpy.histogram`` with
  ``bins=256, range=(min, max)`` on the finite values. A constant image (min == max) puts every
  finite value in bin 0. -Inf is counted in bin 0 and +Inf in bin 255; NaN only in
  ``histogram_nan_count``. If the image has no finite value, the bounds are null.

So ``sum(histogram_counts) + histogram_nan_count`` is the number of values the row covers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa

from pixel_patrol_base.contracts import Agg, Column, LeafStack
from pixel_patrol_base.processors._census import Census, Levels, count_row, level_census, rows_of
from pixel_patrol_base.processors._pixels import (
    Workspace,
    check_real,
    flat_leaves,
    pieces,
    thread_workspace,
)

BINS = 256
NAN_BIN = BINS
"""Extra bin index used internally for NaN values."""


@dataclass(frozen=True, slots=True)
class HistogramEdges:
    """The bins of one image: ``BINS`` bins from ``lo`` to ``hi``.

    For integer images ``lo`` and ``width`` are Python ints (exact for 64-bit values); for floats
    they are floats and ``width`` is only informative (edges come from ``linspace``).
    """

    lo: float
    hi: float
    width: float
    integer: bool


def histogram_edges(
    dtype: np.dtype | str, value_range: tuple[float, float] | None
) -> HistogramEdges | None:
    """Bin edges of an image (rule in the module docstring); ``None`` if undefined."""
    dt = np.dtype(dtype)
    check_real(dt)
    if dt == np.bool_ or (dt.kind in "iu" and dt.itemsize == 1):
        lo = int(np.iinfo(dt).min) if dt.kind == "i" else 0
        return HistogramEdges(lo, lo + BINS, 1, True)
    if value_range is None:
        return None
    vmin, vmax = value_range
    if dt.kind in "iu":
        lo, top = int(vmin), int(vmax)
        width = max(1, -(-(top - lo + 1) // BINS))
        return HistogramEdges(lo, lo + BINS * width, width, True)
    lo_f, hi_f = float(vmin), float(vmax)
    return HistogramEdges(lo_f, hi_f, (hi_f - lo_f) / BINS, False)


class RasterHistogram:
    """Leaf processor for the per-block histogram."""

    NAME: ClassVar[str] = "raster-histogram"
    KIND: ClassVar[Literal["leaf"]] = "leaf"
    NEEDS_RANGE: ClassVar[bool] = True
    LIBRARIES: ClassVar[tuple[str, ...]] = ("numpy",)
    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column(
            "histogram_min",
            pa.float64(),
            "Lower edge of the first bin (same on every row of an image); null if the image"
            " has no finite value.",
            Agg.MIN,
        ),
        Column(
            "histogram_max",
            pa.float64(),
            "Upper edge of the last bin (same on every row of an image); null if the image"
            " has no finite value.",
            Agg.MAX,
        ),
        Column(
            "histogram_nan_count",
            pa.int64(),
            "Number of NaN values (not counted in histogram_counts).",
            Agg.SUM,
        ),
        Column(
            "histogram_counts",
            pa.list_(pa.int64(), BINS),
            "Counts in 256 bins from histogram_min to histogram_max; -Inf in the first bin,"
            " +Inf in the last, NaN not counted.",
            Agg.HIST,
        ),
    )

    def run(self, stack: LeafStack) -> Mapping[str, np.ndarray]:
        """Histogram of every leaf of ``stack`` with the image-wide edges."""
        edges = histogram_edges(stack.image.dtype, stack.image.value_range)
        counts = leaf_counts(flat_leaves(stack.data), edges, level_census(stack))
        n = len(counts)
        lo = np.nan if edges is None else float(edges.lo)
        hi = np.nan if edges is None else float(edges.hi)
        return {
            "histogram_min": np.full(n, lo),
            "histogram_max": np.full(n, hi),
            "histogram_nan_count": counts[:, NAN_BIN].copy(),
            "histogram_counts": counts[:, :BINS],
        }


def leaf_counts(
    x: np.ndarray, edges: HistogramEdges | None, census: Census | None = None
) -> np.ndarray:
    """Counts ``(leaves, BINS + 1)`` of a ``(leaves, pixels)`` array; the last column counts NaN.

    One-row pieces with level counts in ``census`` (see ``_census``) fold those into bins.
    """
    check_real(x.dtype)
    census = census or {}
    if x.dtype == np.bool_:
        x = x.view(np.uint8)
    n = len(x)
    counts = np.zeros((n, BINS + 1), dtype=np.int64)
    ws = thread_workspace("raster-histogram")
    for rows, cols in pieces(*x.shape):
        k = rows.stop - rows.start
        levels = rows_of(census, rows, cols)
        if levels is not None and _add_folded_levels(levels, edges, counts[rows]):
            continue
        if _add_level_counts(x[rows, cols], edges, counts[rows], ws):
            continue
        idx = bin_index(x[rows, cols], edges, ws)
        idx += (np.arange(k, dtype=np.intp) * (BINS + 1))[:, None]
        counts[rows] += np.bincount(idx.ravel(), minlength=k * (BINS + 1)).reshape(k, BINS + 1)
    return counts


def _add_level_counts(
    p: np.ndarray, edges: HistogramEdges | None, out: np.ndarray, ws: Workspace
) -> bool:
    """Add the histogram of a piece of 8/16-bit integers to ``out``; ``False`` if not handled.

    The piece's own min and max (cheap in the native dtype) prove every value lies inside the
    edges, so no clipping is needed and the bin offset and the per-row offset (which keeps rows
    apart in one ``bincount``) are applied in a single subtraction. Pieces with values outside
    the edges are left to :func:`bin_index`, which clips them into the outer bins.
    """
    if p.dtype.kind not in "iu" or p.dtype.itemsize > 2 or edges is None or p.size == 0:
        return False
    lo, width = int(edges.lo), int(edges.width)
    pmin, pmax = int(p.min()), int(p.max())
    if pmin < lo or pmax >= lo + BINS * width:
        return False
    first = (pmin - lo) // width
    n_bins = (pmax - lo) // width - first + 1
    fold = width == 1 or len(p) * n_bins * width * _FOLD_RATIO <= p.size
    if fold and len(p) == 1:  # one row: its level counts, folded into bins
        return _add_folded_levels([count_row(p[0], pmin, pmax)], edges, out)
    idx = ws.get("index", np.intp, p.shape)
    np.copyto(idx, p)
    if fold:
        out[:, first : first + n_bins] += _level_counts(idx, lo + first * width, n_bins, width)
    else:
        out[:, :BINS] += _divided_counts(idx, lo, width)
    return True


def _add_folded_levels(
    levels: list[Levels], edges: HistogramEdges | None, out: np.ndarray
) -> bool:
    """Add the bins of the level counts of a piece's rows (shared from ``_census`` or
    counted for this piece) to ``out``; ``False`` (nothing added) if some level lies outside
    the edges (left to the clipping pixel path)."""
    if edges is None:
        return False
    lo, width = int(edges.lo), int(edges.width)
    if any(row.base < lo or row.top >= lo + BINS * width for row in levels):
        return False
    for k, row in enumerate(levels):
        first = (row.base - lo) // width
        if width == 1:
            out[k, first : first + len(row.counts)] += row.counts
            continue
        pad = row.base - (lo + first * width)  # levels of the first bin below the row's min
        n_bins = -(-(pad + len(row.counts)) // width)
        spread = np.zeros(n_bins * width, np.int64)
        spread[pad : pad + len(row.counts)] = row.counts
        out[k, first : first + n_bins] += spread.reshape(n_bins, width).sum(axis=1)
    return True


_FOLD_RATIO = 8
"""Count single levels only when a piece has this many values per level (folding is cheap)."""


def _level_counts(idx: np.ndarray, base: int, n_bins: int, width: int) -> np.ndarray:
    """Counts ``(rows, n_bins)`` of bins of ``width`` levels from ``base``, via per-level counts.

    ``idx`` holds the values (as intp) and is overwritten. One ``bincount`` of the raw levels
    replaces computing a bin per value; summing groups of ``width`` levels gives exactly the
    integer-width bins.
    """
    k, span = len(idx), n_bins * width
    idx -= base - np.arange(k, dtype=np.intp)[:, None] * span
    levels = np.bincount(idx.ravel(), minlength=k * span).reshape(k, n_bins, width)
    return levels[:, :, 0] if width == 1 else levels.sum(axis=2)


def _divided_counts(idx: np.ndarray, lo: int, width: int) -> np.ndarray:
    """Counts ``(rows, BINS)`` of values ``idx`` (overwritten) known to lie inside the edges.

    Row r is offset by ``r * BINS`` bins before dividing: ``(x - lo + r*BINS*width) // width``
    equals ``(x - lo) // width + r*BINS`` for ``x >= lo``, so one subtraction serves both.
    """
    k = len(idx)
    idx -= lo - np.arange(k, dtype=np.intp)[:, None] * (BINS * width)
    if width & (width - 1) == 0:
        idx >>= width.bit_length() - 1
    else:
        idx //= width
    return np.bincount(idx.ravel(), minlength=k * BINS).reshape(k, BINS)


def bin_index(
    x: np.ndarray, edges: HistogramEdges | None, ws: Workspace | None = None
) -> np.ndarray:
    """Bin of every value (``NAN_BIN`` for NaN), written into a workspace intp buffer."""
    ws = Workspace() if ws is None else ws
    if x.dtype == np.bool_:
        x = x.view(np.uint8)
    if x.dtype.kind in "iu":
        if edges is None:
            raise ValueError("raster-histogram needs the image value range for integer images")
        return _integer_bins(x, edges, ws)
    if edges is None:
        return _nonfinite_bins(x)
    return _float_bins(x, edges, ws)


def _integer_bins(x: np.ndarray, edges: HistogramEdges, ws: Workspace) -> np.ndarray:
    """Exact integer binning: (x - lo) // width, in uint64 modular arithmetic for 64-bit types."""
    lo, width = int(edges.lo), int(edges.width)
    if x.dtype.itemsize == 8:
        return _wide_integer_bins(x, lo, width)
    idx = ws.get("index", np.intp, x.shape)
    np.copyto(idx, x)
    if lo:
        idx -= lo
    if x.dtype.itemsize == 1:
        return idx  # one bin per level over the whole dtype range: always inside
    if width > 1 and width & (width - 1) == 0:
        idx >>= width.bit_length() - 1
    elif width > 1:
        idx //= width
    np.clip(idx, 0, BINS - 1, out=idx)
    return idx


def _wide_integer_bins(x: np.ndarray, lo: int, width: int) -> np.ndarray:
    """64-bit values: offsets from ``lo`` computed modulo 2**64, which is exact as they are < 2**64."""
    wide = x.astype(np.uint64)
    np.subtract(wide, np.uint64(lo % (1 << 64)), out=wide)
    if width > 1:
        np.floor_divide(wide, np.uint64(width), out=wide)
    np.minimum(wide, np.uint64(BINS - 1), out=wide)
    return wide.astype(np.intp)


def _nonfinite_bins(x: np.ndarray) -> np.ndarray:
    """Bins when the image has no finite value: -Inf first, +Inf last, NaN apart."""
    if np.isfinite(x).any():
        raise ValueError("raster-histogram got finite values but no image value range")
    return np.where(np.isnan(x), NAN_BIN, np.where(x > 0, BINS - 1, 0)).astype(np.intp)


def _float_bins(x: np.ndarray, edges: HistogramEdges, ws: Workspace) -> np.ndarray:
    """Equal-width bins with the same edge semantics as ``numpy.histogram``.

    A first estimate from ``(x - lo) * 256 / (hi - lo)`` (off by at most one bin) is corrected
    by comparing with the ``linspace`` edges, so a value's bin depends only on the edges.
    """
    lo, hi = float(edges.lo), float(edges.hi)
    nan = np.isnan(x, out=ws.get("nan", np.bool_, x.shape))
    idx = ws.get("index", np.intp, x.shape)
    if hi <= lo:
        np.copyto(idx, np.where(x > hi, BINS - 1, 0))
        idx[nan] = NAN_BIN
        return idx
    k = _frame(lo, hi)
    if k:
        return _searched_bins(x, lo, hi, nan, idx)
    work = _work_dtype(x.dtype, hi - lo)
    f = ws.get("scaled", work, x.shape)
    np.subtract(x, work.type(lo), out=f)
    f *= work.type(BINS / (hi - lo))
    np.clip(f, 0, BINS - 1, out=f)
    np.copyto(f, NAN_BIN, where=nan)
    np.copyto(idx, f, casting="unsafe")
    table = _edge_table(lo, hi, work)
    edge, below = f, nan  # reuse: the scaled values and NaN mask are no longer needed
    np.take(table, idx, out=edge, mode="clip")
    np.less(x, edge, out=below)
    np.subtract(idx, below, out=idx)
    np.take(table[1:], idx, out=edge, mode="clip")
    np.greater_equal(x, edge, out=below)
    np.add(idx, below, out=idx)
    return idx


def _searched_bins(
    x: np.ndarray, lo: float, hi: float, nan: np.ndarray, idx: np.ndarray
) -> np.ndarray:
    """Bins of an extreme range by search in the edges (which may repeat for subnormals)."""
    inner = float_edges(lo, hi)[1:BINS]
    with np.errstate(invalid="ignore"):
        np.copyto(idx, np.searchsorted(inner, np.where(nan, 0.0, x.astype(np.float64)), side="right"))
    idx[nan] = NAN_BIN
    return idx


def _frame(lo: float, hi: float) -> int:
    """Power of two that brings an extreme value range to about 1, else 0.

    For such ranges ``hi - lo`` overflows (data near the float64 limits) or ``256 / (hi - lo)``
    does (subnormal data), so the bins are found by search instead of by scaling.
    """
    big = max(abs(lo), abs(hi))
    with np.errstate(over="ignore"):
        span = hi - lo
    if big == 0 or 1e-300 < span < 1e300:
        return 0
    return -math.frexp(big)[1]


def _work_dtype(dtype: np.dtype, span: float) -> np.dtype:
    """float32 arithmetic for float16/32 pixels when the span is well inside float32's range.

    Then the estimate is within 1e-4 bins of exact and memory traffic halves; float64 otherwise.
    """
    if dtype.itemsize <= 4 and 1e-30 < span < 1e38:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def float_edges(lo: float, hi: float) -> np.ndarray:
    """The 257 float bin edges: ``numpy.linspace(lo, hi, 257)``.

    For an extreme range (see :func:`_frame`) the edges are formed in a power-of-two frame,
    ``2**-k * linspace(lo * 2**k, hi * 2**k, 257)``: the same numbers wherever linspace is
    finite and exact, rounded to representable values only for subnormal ranges.
    """
    k = _frame(lo, hi)
    if k == 0:
        return np.linspace(lo, hi, BINS + 1)
    return np.ldexp(np.linspace(math.ldexp(lo, k), math.ldexp(hi, k), BINS + 1), -k)


def _edge_table(lo: float, hi: float, work: np.dtype) -> np.ndarray:
    """Bin edges for the correction step, indexed by bin: ``table[k]`` is the lower edge of k.

    The outer edges and the NaN bin hold NaN so that no comparison moves a value out of the
    first or last bin (this is what puts ±Inf there) or out of the NaN bin. For float32 work
    each edge is rounded up to the next float32: for float32 ``x``, ``x < e`` exactly when
    ``x < ceil32(e)``, so comparisons stay exact against the float64 edges.
    """
    table = np.full(BINS + 2, np.nan)
    table[1:BINS] = float_edges(lo, hi)[1:BINS]
    if work == np.float64:
        return table
    narrow = table.astype(np.float32)
    low = narrow < table
    narrow[low] = np.nextafter(narrow[low], np.float32(np.inf))
    return narrow


__all__ = ["RasterHistogram"]
