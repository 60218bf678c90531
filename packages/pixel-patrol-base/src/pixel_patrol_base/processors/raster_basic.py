"""``raster-basic``: min, max, mean, population std and finite count of each leaf block.

NaN and ±Inf are excluded from every statistic: an Inf would make the mean and std meaningless
for the whole block, and NaN usually marks missing data. Min/max are reduced in the native
dtype (exact); sums and squared deviations are accumulated in float64 with a two-pass
algorithm (mean first, then Σ(x - mean)²), which stays accurate when the mean is large
compared with the spread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa

from pixel_patrol_base.contracts import Agg, Column, LeafStack
from pixel_patrol_base.processors._pixels import check_real, flat_leaves, pixel_slices

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
    )

    def run(self, stack: LeafStack) -> Mapping[str, np.ndarray]:
        """Statistics of every leaf of ``stack``; float columns use NaN for "no finite value"."""
        check_real(stack.data.dtype)
        return basic_stats(flat_leaves(stack.data))


def basic_stats(x: np.ndarray) -> dict[str, np.ndarray]:
    """Per-row statistics of a 2-D array ``(leaves, pixels)`` over its finite values."""
    if x.dtype == np.bool_:
        x = x.view(np.uint8)
    pieces = pixel_slices(*x.shape)
    count, lo, hi, total = _first_pass(x, pieces)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
        std = np.sqrt(_squared_deviations(x, pieces, mean) / count)
    none = count == 0
    return {
        "min_intensity": np.where(none, np.nan, lo),
        "max_intensity": np.where(none, np.nan, hi),
        "mean_intensity": np.where(none, np.nan, mean),
        "std_intensity": np.where(none, np.nan, std),
        "finite_pixel_count": count,
    }


def _finite_mask(piece: np.ndarray) -> np.ndarray | None:
    """Mask of finite values, or ``None`` when every value is finite (the common fast path)."""
    if piece.dtype.kind != "f":
        return None
    fin = np.isfinite(piece)
    return None if fin.all() else fin


def _first_pass(
    x: np.ndarray, pieces: list[slice]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Finite count, min, max and sum per row, combined over pixel pieces."""
    n = len(x)
    count = np.zeros(n, dtype=np.int64)
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    total = np.zeros(n)
    for sl in pieces:
        p = x[:, sl]
        if p.shape[1] == 0:
            continue
        fin = _finite_mask(p)
        if fin is None:
            count += p.shape[1]
            np.fmin(lo, p.min(axis=1), out=lo)
            np.fmax(hi, p.max(axis=1), out=hi)
            total += p.sum(axis=1, dtype=np.float64)
        else:
            count += fin.sum(axis=1)
            np.fmin(lo, np.where(fin, p, np.inf).min(axis=1), out=lo)
            np.fmax(hi, np.where(fin, p, -np.inf).max(axis=1), out=hi)
            total += np.where(fin, p, 0).sum(axis=1, dtype=np.float64)
    return count, lo, hi, total


def _squared_deviations(x: np.ndarray, pieces: list[slice], mean: np.ndarray) -> np.ndarray:
    """Σ (x - mean)² per row over finite values (second pass of the two-pass variance)."""
    m2 = np.zeros(len(x))
    centre = np.where(np.isfinite(mean), mean, 0.0)[:, None]
    for sl in pieces:
        p = x[:, sl]
        if p.shape[1] == 0:
            continue
        d = np.subtract(p, centre, dtype=np.float64)
        fin = _finite_mask(p)
        if fin is not None:
            d[~fin] = 0.0
        m2 += np.einsum("ij,ij->i", d, d)
    return m2
