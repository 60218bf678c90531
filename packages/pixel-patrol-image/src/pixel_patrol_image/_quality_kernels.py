"""Per-plane kernels of ``raster-quality`` (see ``docs/metrics.md`` for formulas and sources).

Every function takes one :class:`~pixel_patrol_image._robust.FloatPlanes` batch and returns a
``(b,)`` float64 array per metric, NaN where the metric is undefined for a plane (too small,
constant, or without finite pixels).
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_image._filters import gaussian_kernel, local_mean
from pixel_patrol_image._robust import FloatPlanes, mean_var, prepare
from pixel_patrol_image._workspace import Workspace

NAMES = ("michelson_contrast", "mscn_variance", "texture_heterogeneity", "laplacian_variance")

BRISQUE_KERNEL = gaussian_kernel(7.0 / 6.0, 3)
"""BRISQUE's local window: 7x7 circularly symmetric Gaussian, sigma = 7/6 (Mittal et al. 2012)."""

MSCN_C = 1.0 / 255.0
"""BRISQUE's stabilising constant C = 1 on 8-bit data, i.e. 1/255 of the dynamic range D."""

SIGMA2_FLOOR = 1e-14
"""Least local variance, in units of D²: anything below (sigma < 1e-7 D) is rounding residue
of ``G*x² - mu²`` in float64, so flat regions get the same tiny sigma whatever the rounding."""

MIN_MSCN_SIZE = 7
"""Smallest plane side with at least one full BRISQUE window."""


def quality_metrics(raw: np.ndarray, ws: Workspace) -> dict[str, np.ndarray]:
    """All four ``raster-quality`` metrics of a ``(b, H, W)`` batch in the input dtype."""
    fp = prepare(raw, ws)
    mscn, texture = mscn_and_texture(fp, ws)
    return {
        "michelson_contrast": michelson_contrast(fp),
        "mscn_variance": mscn,
        "texture_heterogeneity": texture,
        "laplacian_variance": laplacian_variance(fp, ws),
    }


def michelson_contrast(fp: FloatPlanes) -> np.ndarray:
    """``(hi - lo) / (|hi| + |lo|)`` on the 1st/99th percentiles of the finite values.

    For non-negative data this is Michelson's ``(Imax - Imin) / (Imax + Imin)``. The absolute
    values extend it to signed data: an all-negative plane gets the contrast of its mirror
    image, and a plane whose robust range reaches or crosses zero has full contrast 1.
    ``hi == lo`` (over 98 % of pixels share one value) gives 0.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        c = (fp.hi - fp.lo) / (np.abs(fp.hi) + np.abs(fp.lo))
    c = np.where(fp.hi == fp.lo, 0.0, c)
    return np.where(fp.valid, c, np.nan)


def mscn_and_texture(fp: FloatPlanes, ws: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """BRISQUE MSCN variance and the coefficient of variation of the local std map.

    With Gaussian local mean ``mu``, local std ``sigma = sqrt(G*x² - mu²)`` and dynamic range
    ``D``, the MSCN coefficients are ``(x - mu) / (sigma + D/255)``; the first result is their
    variance over the finite pixels, the second ``std(sigma) / mean(sigma)`` over the same
    pixels. Both are invariant to a gain and offset of the intensities.
    """
    x = fp.centred
    shape = x.shape
    nan = np.full(shape[0], np.nan)
    if shape[1] < MIN_MSCN_SIZE or shape[2] < MIN_MSCN_SIZE:
        return nan, nan
    d = fp.scale[:, None, None]
    mu = local_mean(x, fp.finite, BRISQUE_KERNEL, ws.get("mu", shape), ws)
    sigma = np.multiply(x, x, out=ws.get("sigma", shape))
    local_mean(sigma, fp.finite, BRISQUE_KERNEL, sigma, ws)
    scratch = ws.get("scratch", shape)
    sigma -= np.multiply(mu, mu, out=scratch)
    np.maximum(sigma, SIGMA2_FLOOR * d * d, out=sigma)
    np.sqrt(sigma, out=sigma)
    coeff = np.subtract(x, mu, out=mu)
    coeff /= np.add(sigma, MSCN_C * d, out=scratch)
    _, mscn_var = mean_var(coeff, fp.finite, scratch)
    s_mean, s_var = mean_var(sigma, fp.finite, scratch)
    with np.errstate(invalid="ignore", divide="ignore"):
        texture = np.where(s_mean > 0, np.sqrt(s_var) / s_mean, np.nan)
    return np.where(fp.valid, mscn_var, nan), np.where(fp.valid, texture, nan)


def laplacian_variance(fp: FloatPlanes, ws: Workspace) -> np.ndarray:
    """Variance of the 4-neighbour Laplacian over interior pixels whose stencil is finite.

    ``L = x[i-1,j] + x[i+1,j] + x[i,j-1] + x[i,j+1] - 4 x[i,j]``, in squared intensity units
    of the input (not normalised: a gain ``a`` multiplies it by ``a²``).
    """
    x = fp.centred
    b, h, w = x.shape
    if h < 3 or w < 3:
        return np.full(b, np.nan)
    inner = (b, h - 2, w - 2)
    lap = np.add(x[:, :-2, 1:-1], x[:, 2:, 1:-1], out=ws.get("lap", inner))
    lap += x[:, 1:-1, :-2]
    lap += x[:, 1:-1, 2:]
    scratch = ws.get("lap_scratch", inner)
    lap -= np.multiply(x[:, 1:-1, 1:-1], 4.0, out=scratch)
    mask = None
    if fp.finite is not None:
        f = fp.finite
        mask = f[:, 1:-1, 1:-1] & f[:, :-2, 1:-1] & f[:, 2:, 1:-1]
        mask &= f[:, 1:-1, :-2] & f[:, 1:-1, 2:]
    _, var = mean_var(lap, mask, scratch)
    return np.where(fp.valid, var, np.nan)
