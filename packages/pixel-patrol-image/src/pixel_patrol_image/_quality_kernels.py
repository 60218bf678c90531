"""Per-plane kernels of ``raster-quality`` (see ``docs/metrics.md`` for formulas and sources).

Every function takes one :class:`~pixel_patrol_image._robust.FloatPlanes` batch and returns a
``(b,)`` float64 array per metric, NaN where the metric is undefined for a plane (too small,
constant, or without finite pixels).
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_image._filters import WEIGHT_FLOOR
from pixel_patrol_image._robust import FloatPlanes, PlaneStats, prepare
from pixel_patrol_image._workspace import Workspace

NAMES = ("michelson_contrast", "mscn_variance", "texture_heterogeneity", "laplacian_variance")

MSCN_C = 1.0 / 255.0
"""BRISQUE's stabilising constant C = 1 on 8-bit data, i.e. 1/255 of the dynamic range D."""

SIGMA_FLOOR = 1e-7
"""Least local standard deviation, in units of ``D`` (flat regions)."""

RESIDUE = 1e-6
"""Relative size below which ``G*x² - mu²`` is float32 rounding residue (a few float32 ulps)."""

MIN_MSCN_SIZE = 7
"""Smallest plane side with at least one full BRISQUE window."""

F32 = np.float32


def quality_metrics(raw: np.ndarray, masked: bool, ws: Workspace) -> dict[str, np.ndarray]:
    """All four ``raster-quality`` metrics of a ``(b, H, W)`` batch in the input dtype."""
    fp = prepare(raw, masked, ws)
    return {"michelson_contrast": michelson_contrast(fp.stats), **fused_metrics(fp)}


def michelson_contrast(stats: PlaneStats) -> np.ndarray:
    """``(hi - lo) / (|hi| + |lo|)`` on the 1st/99th percentiles of the finite values.

    For non-negative data this is Michelson's ``(Imax - Imin) / (Imax + Imin)``. The absolute
    values extend it to signed data: an all-negative plane gets the contrast of its mirror
    image, and a plane whose robust range reaches or crosses zero has full contrast 1.
    ``hi == lo`` (over 98 % of pixels share one value) gives 0.
    """
    c = (stats.hi - stats.lo) / (np.abs(stats.hi) + np.abs(stats.lo))
    c = np.where(stats.hi == stats.lo, 0.0, c)
    return np.where(stats.valid, c, np.nan)


def fused_metrics(fp: FloatPlanes) -> dict[str, np.ndarray]:
    """MSCN variance, texture heterogeneity and Laplacian variance from one compiled pass.

    With Gaussian local mean ``mu``, local std ``sigma = sqrt(G*x² - mu²)`` and dynamic range
    ``D``, the MSCN coefficients are ``(x - mu) / (sigma + D/255)``; ``mscn_variance`` is
    their variance over the finite pixels, ``texture_heterogeneity`` is
    ``std(sigma) / mean(sigma)`` over the same pixels. Both are invariant to a gain and offset
    of the intensities. ``laplacian_variance`` is the variance of
    ``L = x[i-1,j] + x[i+1,j] + x[i,j-1] + x[i,j+1] - 4 x[i,j]`` over interior pixels whose
    stencil is finite, in squared intensity units of the input (a gain ``a`` multiplies it by
    ``a²``).

    Local variances under ``RESIDUE * G*x²`` are float32 rounding residue (``x`` is counted
    from the plane median) and get the floor ``(SIGMA_FLOOR * D)²``, as flat windows would
    in exact arithmetic.
    """
    from pixel_patrol_image import _fused

    layout = fp.layout
    b, h, w = layout.planes, layout.height, layout.width
    grid = fp.stack.grid(fp.buf)
    x = grid[:b]
    m = grid[fp.mask_group * b :] if fp.mask_group is not None else x
    d = fp.stats.scale * fp.unit
    sums = np.zeros((b, len(_fused.SUMS)))
    _fused.quality_sums(
        x,
        m,
        fp.masked,
        h,
        w,
        (MSCN_C * d).astype(F32),
        np.square(SIGMA_FLOOR * d).astype(F32),
        F32(RESIDUE),
        F32(WEIGHT_FLOOR) * _fused.K0 * _fused.K0,
        sums,
    )
    c, c2, s, s2, lap, lap2, lap_n = sums.T
    n = fp.stats.count
    valid = fp.stats.valid
    nan = np.full(b, np.nan)
    mscn = _variance(c, c2, n)
    s_mean = s / n
    texture = np.sqrt(_variance(s, s2, n)) / np.where(s_mean > 0, s_mean, np.nan)
    small = h < MIN_MSCN_SIZE or w < MIN_MSCN_SIZE
    lap_var = _variance(lap, lap2, lap_n)
    with np.errstate(over="ignore"):  # values beyond 1e154 have a variance beyond float64
        lap_var = lap_var / fp.unit / fp.unit  # in two steps: unit² alone may overflow
    return {
        "mscn_variance": nan if small else np.where(valid, mscn, nan),
        "texture_heterogeneity": nan if small else np.where(valid, texture, nan),
        "laplacian_variance": nan if h < 3 or w < 3 else np.where(valid, lap_var, nan),
    }


def _variance(total: np.ndarray, squares: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Population variance ``E[v²] - E[v]²`` from float64 sums (NaN for no values)."""
    mean = total / count
    return np.maximum(squares / count - mean * mean, 0.0)
