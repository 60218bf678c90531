"""Float64 planes with their finite mask, range and robust (1st/99th percentile) bounds.

Every metric of this package works on finite pixels only: NaN and ±Inf are treated as missing
data, so one bad pixel removes itself (and the filter windows or pixel pairs it takes part in)
but never poisons the whole plane. Kernels receive the batch with non-finite pixels replaced
by 0 together with the mask, which lets filters run as normalised convolutions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pixel_patrol_image._workspace import Workspace

LOW_PERCENTILE = 1.0
HIGH_PERCENTILE = 99.0
"""Robust bounds: the 1st and 99th percentiles of the finite values (numpy's linear rule).

They ignore up to 1 % of outliers at each end (hot pixels, dead pixels, a saturated spot),
which the plain minimum and maximum would let dominate contrast and range estimates.
"""

_HISTOGRAM_DTYPES = frozenset("bBhH")
"""dtype.char of int8, uint8, int16, uint16: few enough levels for exact counting."""


@dataclass(frozen=True, slots=True)
class FloatPlanes:
    """A batch of planes in float64 plus the per-plane facts the metrics share.

    Attributes
    ----------
    centred
        ``(b, H, W)`` float64 ``x - offset``; 0 at non-finite pixels. Subtracting the 1st
        percentile keeps sums of squares free of a large common offset (uint16 data around
        60000, floats around 1e6), so ``E[x²] - E[x]²`` stays accurate; every metric here is
        translation invariant.
    offset
        The value subtracted per plane (the 1st percentile, 0 without finite values).
    finite
        ``(b, H, W)`` bool mask of finite pixels, or ``None`` when every pixel is finite.
    vmin, vmax
        Finite minimum and maximum per plane (``+inf``/``-inf`` for a plane without any).
    lo, hi
        1st and 99th percentiles of the finite values per plane (NaN without any).
    """

    centred: np.ndarray
    offset: np.ndarray
    finite: np.ndarray | None
    vmin: np.ndarray
    vmax: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        """Planes with at least two distinct finite values; all metrics are null elsewhere."""
        return self.vmax > self.vmin

    @property
    def scale(self) -> np.ndarray:
        """Dynamic range ``D`` per plane: ``hi - lo``, or ``vmax - vmin`` when that is 0.

        The fallback covers sparse images (bright spots on under 1 % of the pixels), whose
        robust range is empty although the plane is not constant. Invalid planes get 1 so
        that divisions stay finite; their results are discarded.
        """
        robust = self.hi - self.lo
        full = np.where(self.valid, self.vmax - self.vmin, 1.0)
        return np.where(robust > 0, robust, full)

    def normalised(self, out: np.ndarray) -> np.ndarray:
        """``(x - lo) / D`` per plane written into ``out``, 0 at non-finite pixels."""
        return np.multiply(self.centred, (1.0 / self.scale)[:, None, None], out=out)


def prepare(raw: np.ndarray, ws: Workspace) -> FloatPlanes:
    """Convert a ``(b, H, W)`` batch to :class:`FloatPlanes` (float64, NaN-aware).

    Small integer types take one pass over the pixels for exact percentiles by counting and
    one pass that converts and centres; other types are copied to float64 first.
    """
    if raw.dtype == np.bool_:
        raw = raw.view(np.uint8)
    x = ws.get("values", raw.shape)
    counted = _counted_stats(raw)
    if counted is not None:
        vmin, vmax, lo, hi = counted
        offset = lo
        np.subtract(raw, offset[:, None, None], out=x, casting="unsafe")
        return FloatPlanes(x, offset, None, vmin, vmax, lo, hi)
    np.copyto(x, raw, casting="unsafe")
    finite: np.ndarray | None = None
    if raw.dtype.kind == "f":
        mask = np.isfinite(x)
        if not mask.all():
            finite = mask
            x[~mask] = 0.0
    vmin, vmax = _range(x, finite)
    lo, hi = robust_bounds(raw, x, finite)
    offset = np.where(np.isfinite(lo), lo, 0.0)
    x -= offset[:, None, None]
    if finite is not None:
        x[~finite] = 0.0
    return FloatPlanes(x, offset, finite, vmin, vmax, lo, hi)


def _range(x: np.ndarray, finite: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Finite min and max per plane."""
    if x.shape[1] * x.shape[2] == 0:
        empty = np.full(len(x), np.inf)
        return empty, -empty
    if finite is None:
        return x.min(axis=(1, 2)), x.max(axis=(1, 2))
    return (
        np.where(finite, x, np.inf).min(axis=(1, 2)),
        np.where(finite, x, -np.inf).max(axis=(1, 2)),
    )


def robust_bounds(
    raw: np.ndarray, x: np.ndarray, finite: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """1st and 99th percentiles of the finite values of each plane (``x`` = raw as float64)."""
    b = len(x)
    n = x.shape[1] * x.shape[2]
    if n == 0:
        nan = np.full(b, np.nan)
        return nan, nan
    counted = _counted_stats(raw) if finite is None else None
    if counted is not None:
        return counted[2], counted[3]
    flat = x.reshape(b, n)
    if finite is None:
        pct = np.percentile(flat, [LOW_PERCENTILE, HIGH_PERCENTILE], axis=1)
        return pct[0], pct[1]
    return _bounds_masked(flat, finite.reshape(b, n))


def _counted_stats(raw: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """``(vmin, vmax, lo, hi)`` per plane by counting, or ``None`` when counting does not pay.

    Applies to integer types of at most 16 bits whose histogram (one per plane, over the
    batch's value span) is not much larger than the batch itself. Exact: the ranks numpy's
    ``linear`` rule interpolates between are read from cumulative counts.
    """
    b = len(raw)
    n = raw.shape[1] * raw.shape[2] if raw.ndim == 3 else 0
    if raw.dtype.char not in _HISTOGRAM_DTYPES or n == 0 or b == 0:
        return None
    base = int(raw.min())
    span = int(raw.max()) - base + 1
    if b * span > 2 * max(raw.size, 1 << 16):
        return None
    offsets = raw.reshape(b, n).astype(np.int64) - base
    offsets += (np.arange(b, dtype=np.int64) * span)[:, None]
    cum = np.bincount(offsets.ravel(), minlength=b * span).reshape(b, span).cumsum(axis=1)

    def at_rank(k: int) -> np.ndarray:
        # value of the k-th smallest element (0-based): number of bins whose cumulative
        # count is still <= k
        return (cum <= k).sum(axis=1).astype(np.float64) + base

    out = [at_rank(0), at_rank(n - 1)]
    for q in (LOW_PERCENTILE, HIGH_PERCENTILE):
        h = (n - 1) * q / 100.0
        k0 = int(np.floor(h))
        v0, v1 = at_rank(k0), at_rank(min(k0 + 1, n - 1))
        out.append(v0 + (v1 - v0) * (h - k0))
    return tuple(out)


def _bounds_masked(flat: np.ndarray, finite: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Percentiles over finite values only; one call per plane (only batches with NaN/Inf)."""
    lo = np.full(len(flat), np.nan)
    hi = np.full(len(flat), np.nan)
    for i, (row, ok) in enumerate(zip(flat, finite, strict=True)):
        if ok.any():
            lo[i], hi[i] = np.percentile(row[ok], [LOW_PERCENTILE, HIGH_PERCENTILE])
    return lo, hi


def mean_var(
    a: np.ndarray, mask: np.ndarray | None, scratch: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population variance (ddof 0) per plane over the pixels where ``mask`` is true.

    Without a mask: ``E[a²] - E[a]²`` from two read-only sums. The callers only pass
    offset-free quantities (centred pixels through zero-sum stencils, MSCN coefficients,
    local standard deviations in units of the data), for which the cancellation error is a
    few ulps. With a mask: two passes (mean, then squared deviations into ``scratch``).
    Planes without a selected pixel give NaN.
    """
    b = len(a)
    if mask is None:
        n = a.shape[1] * a.shape[2]
        if n == 0:
            nan = np.full(b, np.nan)
            return nan, nan
        mean = a.sum(axis=(1, 2)) / n
        var = np.einsum("ijk,ijk->i", a, a) / n - mean * mean
        return mean, np.maximum(var, 0.0)
    count = mask.sum(axis=(1, 2))
    mean = np.full(b, np.nan)
    np.divide(np.where(mask, a, 0.0).sum(axis=(1, 2)), count, out=mean, where=count > 0)
    d = np.subtract(a, np.where(count > 0, mean, 0.0)[:, None, None], out=scratch)
    d[~mask] = 0.0
    var = np.full(b, np.nan)
    np.divide(np.einsum("ijk,ijk->i", d, d), count, out=var, where=count > 0)
    return mean, var
