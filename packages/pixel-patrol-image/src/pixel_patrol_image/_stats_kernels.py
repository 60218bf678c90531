"""Compiled per-plane arithmetic of :mod:`pixel_patrol_image._stats` and of the quality metrics.

Why compiled: the arithmetic that turns a plane's order statistics into its range, offset and
unit, and the sums of :mod:`pixel_patrol_image._fused` into metric values, is a few dozen
float64 operations per plane. In numpy each is a call on arrays of one element for a single
image, about a microsecond apiece, which cost more than the pixel work of a small image. One
call here does a whole batch.

The operations and their order are those of the numpy formulas they replace (no fast-math:
the compiler neither reorders nor fuses them), so every value is the same to the bit. Both
functions take float64 arrays only, so each is compiled once whatever the pixel type.
"""

from __future__ import annotations

import math

import numpy as np

from pixel_patrol_image._jit import compiled

STAT_FIELDS = (
    "t0", "t1", "robust", "span", "reach", "vmin", "vmax", "lo", "hi", "offset", "scaled",
    "michelson",
)  # fmt: skip
"""Rows written by :func:`plane_facts`, in this order."""

DIFFS = ((3, 2), (5, 4), (4, 2), (1, 0), (1, 6), (6, 0))
"""Differences of order statistics (indices into ``_stats.RANKS``) :func:`plane_facts` reads."""


@compiled
def plane_facts(
    nominal: np.ndarray,
    plain: bool,
    diffs: np.ndarray,
    frame: np.ndarray,
    count: np.ndarray,
    valid: np.ndarray,
    counted: bool,
    low: float,
    high: float,
    cap: int,
    out: np.ndarray,
    unit: np.ndarray,
) -> None:
    """Per plane, the :data:`STAT_FIELDS` into the rows of ``out`` and the unit exponent into
    ``unit``.

    ``nominal`` holds the order statistics as float64 and ``frame`` the frame exponents.
    With ``plain`` (types and magnitudes whose float64 differences are exact-rounded, frame
    0) the :data:`DIFFS` and the ``valid`` flags are formed here, from ``nominal``, and
    written into ``diffs`` and ``valid``; otherwise the caller has put the exact differences
    in frame units and the flags there. ``counted`` is true for 8/16-bit types (unit 0);
    ``low`` and ``high`` are the percentiles and ``cap`` the largest working magnitude
    exponent (see ``_stats``).
    """
    for i in range(nominal.shape[0]):
        v = nominal[i]
        if plain:
            d = diffs[i]
            d[0], d[1], d[2] = v[3] - v[2], v[5] - v[4], v[4] - v[2]
            d[3], d[4], d[5] = v[1] - v[0], v[1] - v[6], v[6] - v[0]
            valid[i] = count[i] > 0 and v[1] > v[0]
        n = max(count[i], 1.0)
        h0, h1 = (n - 1.0) * low / 100.0, (n - 1.0) * high / 100.0  # numpy's linear rule
        t0, t1 = h0 - np.floor(h0), h1 - np.floor(h1)
        d32, d54, d42, d10, d16, d60 = (
            diffs[i, 0], diffs[i, 1], diffs[i, 2], diffs[i, 3], diffs[i, 4], diffs[i, 5],
        )  # fmt: skip
        f = frame[i]
        robust = d42 + d54 * t1 - d32 * t0
        span = robust if robust > 0 else d10
        reach = d16 if d16 != d16 or d16 >= d60 else d60  # np.maximum: NaN wins
        pad = np.nan if count[i] == 0 else 0.0
        ok = valid[i]
        if counted:
            u = 0
        else:
            near = f - math.frexp(span if ok else 1.0)[1]
            far = f + cap - math.frexp(reach if reach > 0 else 1.0)[1]
            u = min(near, far)
        lo_f = math.ldexp(v[2], f) + d32 * t0
        hi_f = math.ldexp(v[4], f) + d54 * t1
        contrast = robust / (abs(hi_f) + abs(lo_f)) if robust > 0 else 0.0
        out[0, i], out[1, i], out[2, i], out[3, i], out[4, i] = t0, t1, robust, span, reach
        out[5, i] = v[0] + pad
        out[6, i] = v[1] + pad
        out[7, i] = v[2] + math.ldexp(d32 * t0, -f) + pad
        out[8, i] = v[4] + math.ldexp(d54 * t1, -f) + pad
        out[9, i] = v[6] + pad
        out[10, i] = math.ldexp(span if ok else 1.0, u - f)
        out[11, i] = contrast if ok else np.nan
        unit[i] = u


@compiled
def metric_values(
    sums: np.ndarray,
    valid: np.ndarray,
    unit: np.ndarray,
    michelson: np.ndarray,
    mscn_ok: bool,
    lap_ok: bool,
    out: np.ndarray,
) -> None:
    """The four quality metrics per plane from its sums (``_quality_kernels.SUMS`` order)
    into ``out`` (``(4, b)``, rows in ``_quality_kernels.NAMES`` order); see
    :func:`pixel_patrol_image._quality_kernels.from_sums` for the formulas."""
    for i in range(sums.shape[0]):
        c, c2, s, s2 = sums[i, 0], sums[i, 1], sums[i, 2], sums[i, 3]
        lap, lap2, lap_n, n = sums[i, 4], sums[i, 5], sums[i, 6], sums[i, 7]
        # population variances E[v²] - E[v]², floored at 0 as np.maximum does (NaN stays)
        mean = c / n
        mscn = c2 / n - mean * mean
        mscn = mscn if mscn != mscn or mscn >= 0.0 else 0.0
        s_mean = s / n
        s_var = s2 / n - s_mean * s_mean
        s_var = s_var if s_var != s_var or s_var >= 0.0 else 0.0
        texture = np.sqrt(s_var) / (s_mean if s_mean > 0 else np.nan)
        lap_mean = lap / lap_n
        l_var = lap2 / lap_n - lap_mean * lap_mean
        l_var = l_var if l_var != l_var or l_var >= 0.0 else 0.0
        lap_var = math.ldexp(l_var, -2 * unit[i])
        ok = valid[i]
        out[0, i] = michelson[i]
        out[1, i] = mscn if mscn_ok and ok else np.nan
        out[2, i] = texture if mscn_ok and ok else np.nan
        out[3, i] = lap_var if lap_ok and ok and np.isfinite(lap_var) else np.nan


__all__ = ["DIFFS", "STAT_FIELDS", "metric_values", "plane_facts"]
