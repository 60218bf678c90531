"""Per-plane kernels of ``raster-quality`` (see ``docs/metrics.md`` for formulas and sources).

Every function takes one :class:`~pixel_patrol_image._robust.FloatPlanes` batch and returns a
``(b,)`` float64 array per metric, NaN where the metric is undefined for a plane (too small,
constant, or without finite pixels).
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_image._filters import gaussian_kernel, local_means
from pixel_patrol_image._layout import PlaneMap
from pixel_patrol_image._robust import FloatPlanes, PlaneStats, prepare
from pixel_patrol_image._sums import centred_moments, moments, plane_sums
from pixel_patrol_image._workspace import Workspace

NAMES = ("michelson_contrast", "mscn_variance", "texture_heterogeneity", "laplacian_variance")

BRISQUE_KERNEL = gaussian_kernel(7.0 / 6.0, 3)
"""BRISQUE's local window: 7x7 circularly symmetric Gaussian, sigma = 7/6 (Mittal et al. 2012)."""

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
    fp = prepare(raw, masked, ws, maps=2)
    mscn, texture = mscn_and_texture(fp, ws)
    return {
        "michelson_contrast": michelson_contrast(fp.stats),
        "mscn_variance": mscn,
        "texture_heterogeneity": texture,
        "laplacian_variance": laplacian_variance(fp, ws),
    }


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


def mscn_and_texture(fp: FloatPlanes, ws: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """BRISQUE MSCN variance and the coefficient of variation of the local std map.

    With Gaussian local mean ``mu``, local std ``sigma = sqrt(G*x² - mu²)`` and dynamic range
    ``D``, the MSCN coefficients are ``(x - mu) / (sigma + D/255)``; the first result is their
    variance over the finite pixels, the second ``std(sigma) / mean(sigma)`` over the same
    pixels. Both are invariant to a gain and offset of the intensities. Needs ``fp`` with
    ``maps=2``: group 1 receives ``x²``.
    """
    b, h, w = fp.layout.planes, fp.layout.height, fp.layout.width
    nan = np.full(b, np.nan)
    if h < MIN_MSCN_SIZE or w < MIN_MSCN_SIZE:
        return nan, nan
    coeff, sigma, scratch = _mscn_maps(fp, ws)
    mask = None
    if fp.mask_group is not None:  # non-finite pixels do not count
        mask = fp.group(fp.mask_group)
        coeff.blocks[...] *= mask
        sigma.blocks[...] *= mask
    _, mscn_var = moments(coeff, fp.stats.count)
    s_mean, s_var = centred_moments(sigma, fp.stats.count, scratch, mask)
    texture = np.where(s_mean > 0, np.sqrt(s_var) / s_mean, np.nan)
    valid = fp.stats.valid
    return np.where(valid, mscn_var, nan), np.where(valid, texture, nan)


def _mscn_maps(fp: FloatPlanes, ws: Workspace) -> tuple[PlaneMap, PlaneMap, PlaneMap]:
    """MSCN coefficients, local standard deviations and a free scratch map, per pixel.

    The local moments ``G*x`` and ``G*x²`` come from one filter call over the stacked
    buffer ``[x, x², (finite mask)]``; the filter's own scratch buffer is reused afterwards.
    """
    b = fp.layout.planes
    x = fp.group(0)
    np.multiply(x, x, out=fp.group(1))
    stack = fp.stack
    masks = b if fp.masked else 0
    out = ws.get("moments", fp.buf.shape, F32)
    g = local_means(fp.buf, stack, masks, BRISQUE_KERNEL, out, ws)
    mu, sigma = stack.map(g, 0, b), stack.map(g, b, b)
    spare = ws.get("smooth_x", fp.buf.shape, F32)  # the filter's scratch, free again
    scratch = stack.map(spare, 0, b)
    d = fp.scale32
    _local_std(sigma.blocks, mu.blocks, d, scratch.blocks, stack.blocks(spare, b, b), ws)
    coeff = np.subtract(x, mu.blocks, out=mu.blocks)
    coeff /= np.add(sigma.blocks, F32(MSCN_C) * d, out=scratch.blocks)
    return mu, sigma, scratch


def _local_std(
    moment2: np.ndarray,
    mu: np.ndarray,
    d: np.ndarray,
    scratch: np.ndarray,
    threshold: np.ndarray,
    ws: Workspace,
) -> None:
    """``sigma = sqrt(G*x² - mu²)`` in place of ``moment2``, with rounding residue made flat.

    In float32 the difference is only good to about ``1e-7`` of ``G*x²`` (``x`` counted from
    the plane median); local variances under ``RESIDUE * G*x²`` are treated as flat and get
    the floor ``(SIGMA_FLOOR * D)²``, as they would in exact arithmetic. Every other local
    variance is at least that threshold, hence not negative. ``scratch`` and ``threshold``
    are spare buffers shaped like ``moment2``.
    """
    np.multiply(moment2, F32(RESIDUE), out=threshold)
    moment2 -= np.multiply(mu, mu, out=scratch)
    flat = np.less(moment2, threshold, out=ws.get("mscn_is_flat", moment2.shape, np.bool_))
    if flat.any():  # masked copies are slow, and camera data rarely has flat windows
        np.copyto(moment2, np.square(SIGMA_FLOOR * d), where=flat)
    np.sqrt(moment2, out=moment2)


def laplacian_variance(fp: FloatPlanes, ws: Workspace) -> np.ndarray:
    """Variance of the 4-neighbour Laplacian over interior pixels whose stencil is finite.

    ``L = x[i-1,j] + x[i+1,j] + x[i,j-1] + x[i,j+1] - 4 x[i,j]``, in squared intensity units
    of the input (not normalised: a gain ``a`` multiplies it by ``a²``). For integer data the
    float32 Laplacian is exact.
    """
    layout = fp.layout
    b, h, w = layout.planes, layout.height, layout.width
    if h < 3 or w < 3:
        return np.full(b, np.nan)
    stack, s = fp.stack, layout.stride
    lo, hi = layout.lead + s, layout.size - s  # rows 1 .. H-2 of every plane lie inside
    lap = ws.get("smooth_x", fp.buf.shape, F32)  # free after the MSCN filters
    lap[layout.lead : lo] = 0.0  # first and last stored row: padding of the sums below
    lap[hi : layout.size] = 0.0
    out = lap[lo:hi]
    x = fp.buf
    np.add(x[lo - s : hi - s], x[lo + s : hi + s], out=out)
    out += x[lo - 1 : hi - 1]
    out += x[lo + 1 : hi + 1]
    out -= np.multiply(x[lo:hi], F32(4.0), out=ws.get("moments", fp.buf.shape, F32)[lo:hi])
    count = np.full(b, float((h - 2) * (w - 2)))
    if fp.mask_group is not None:
        ok_buf = ws.get("moments", fp.buf.shape, F32)
        ok = ok_buf[lo:hi]
        m = fp.buf[fp.mask_group * b * layout.block :]
        np.multiply(m[lo - s : hi - s], m[lo + s : hi + s], out=ok)
        ok *= m[lo - 1 : hi - 1]
        ok *= m[lo + 1 : hi + 1]
        ok *= m[lo:hi]
        out *= ok
        count = plane_sums(stack.interior(ok_buf, 0, b, margin=1))
    _, var = moments(stack.map(lap, 0, b, margin=1), count)
    with np.errstate(over="ignore"):  # values beyond 1e154 have a variance beyond float64
        var = var / fp.unit / fp.unit  # in two steps: unit² alone may overflow
    return np.where(fp.stats.valid, var, np.nan)
