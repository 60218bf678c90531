"""Per-plane kernels of ``raster-quality`` (see ``docs/metrics.md`` for formulas and sources).

:func:`quality_metrics` handles a batch of whole planes. The same sums serve tiles of planes
too large for one piece of work (:mod:`pixel_patrol_image._tiled`): :func:`tile_sums` adds up
a tile's own pixels given the statistics of the whole plane, and :func:`from_sums` turns the
sums of all tiles into the metrics, so a plane gets the same values however it was cut.
Every metric is NaN where it is undefined for a plane (too small, constant, or without finite
pixels).
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_image import _fused
from pixel_patrol_image._filters import WEIGHT_FLOOR
from pixel_patrol_image._jit import kernel_input
from pixel_patrol_image._robust import plane_stats
from pixel_patrol_image._stats import PlaneStats, working_input
from pixel_patrol_image._stats_kernels import metric_values
from pixel_patrol_image._workspace import Workspace

NAMES = ("michelson_contrast", "mscn_variance", "texture_heterogeneity", "laplacian_variance")

MSCN_C = 1.0 / 255.0
"""BRISQUE's stabilising constant: C = 1 on the 0..255 scale, here 1/255 of the dynamic range D."""

SIGMA_FLOOR = 1e-7
"""Least local standard deviation, in units of ``D`` (flat regions)."""

RESIDUE = 1e-6
"""Relative size below which ``G*x² - mu²`` is float32 rounding residue (a few float32 ulps)."""

MIN_MSCN_SIZE = 7
"""Smallest plane side with at least one full BRISQUE window."""

SUMS = (*_fused.SUMS, "count")
"""Per-plane (or per-tile) sums behind the filter metrics; ``count`` = finite own pixels."""

F32 = np.float32
_RESIDUE32 = F32(RESIDUE)
_WEIGHT_FLOOR32 = F32(WEIGHT_FLOOR) * _fused.K0 * _fused.K0
"""The kernel's float32 constants, formed once."""


def quality_metrics(raw: np.ndarray, masked: bool, ws: Workspace) -> np.ndarray:
    """All four ``raster-quality`` metrics of a ``(b, H, W)`` batch of whole planes, one row
    per metric (:data:`NAMES` order)."""
    raw = kernel_input(raw)  # once: counting and the sums both take 16-bit pixels
    h, w = raw.shape[1:]
    stats = plane_stats(raw, np.isfinite(raw) if masked else None)
    sums = tile_sums(raw, masked, stats, (0, h, 0, w), ws)
    return metric_rows(stats, sums, (h, w))


def tile_sums(
    raw: np.ndarray,
    masked: bool,
    stats: PlaneStats,
    own: tuple[int, int, int, int],
    ws: Workspace,
) -> np.ndarray:
    """``(b, len(SUMS))`` float64 sums over the own box of ``b`` tiles (or whole planes).

    Parameters
    ----------
    raw
        ``(b, h, w)`` pixels in the input dtype: the own box plus the halo (clipped at the
        plane border) of each tile.
    masked
        Whether the *whole planes* have non-finite pixels (a plane takes one code path for
        all its tiles).
    stats
        Statistics of the whole planes.
    own
        ``(y0, y1, x0, x1)`` of the own pixels inside ``raw``.
    """
    if raw.dtype.kind == "b":
        raw = raw.view(np.uint8)
    b = len(raw)
    array, offset, unit = working_input(raw, stats, ws)
    d = stats.scaled_range(raw.dtype)
    out = np.zeros((b, len(SUMS)))
    _fused.quality_sums(
        kernel_input(array),
        masked,
        np.asarray(own, dtype=np.int64),
        offset,
        unit,
        (MSCN_C * d).astype(F32),
        np.square(SIGMA_FLOOR * d).astype(F32),
        _RESIDUE32,
        _WEIGHT_FLOOR32,
        out,
    )
    y0, y1, x0, x1 = own
    if not masked:
        out[:, -1] = (y1 - y0) * (x1 - x0)
        h, w = raw.shape[1:]  # stencils of the own interior pixels (the plane's interior)
        inner_rows = max(0, min(y1, h - 1) - max(y0, 1))
        inner_cols = max(0, min(x1, w - 1) - max(x0, 1))
        out[:, SUMS.index("lap_count")] = inner_rows * inner_cols
    else:
        out[:, -1] = np.isfinite(raw[:, y0:y1, x0:x1]).sum(axis=(1, 2))
    return out


def from_sums(
    stats: PlaneStats, sums: np.ndarray, dtype: np.dtype, shape: tuple[int, int]
) -> dict[str, np.ndarray]:
    """The metrics of ``b`` planes of ``shape`` from their statistics and summed :data:`SUMS`.

    With Gaussian local mean ``mu``, local std ``sigma = sqrt(G*x² - mu²)`` and dynamic range
    ``D``, the MSCN coefficients are ``(x - mu) / (sigma + D/255)``; ``mscn_variance`` is
    their variance over the finite pixels, ``texture_heterogeneity`` is
    ``std(sigma) / mean(sigma)`` over the same pixels. Both are invariant to a gain and offset
    of the intensities. ``laplacian_variance`` is the variance of
    ``L = x[i-1,j] + x[i+1,j] + x[i,j-1] + x[i,j+1] - 4 x[i,j]`` over interior pixels whose
    stencil is finite, in squared intensity units of the input (a gain ``a`` multiplies it by
    ``a²``); it is NaN where that exceeds the float64 range (values beyond about 1e154).

    Local variances under ``RESIDUE * G*x²`` are float32 rounding residue (``x`` is counted
    from the plane median) and get the floor ``(SIGMA_FLOOR * D)²``, as flat windows would
    in exact arithmetic.
    """
    return dict(zip(NAMES, metric_rows(stats, sums, shape), strict=True))


def metric_rows(stats: PlaneStats, sums: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """:func:`from_sums` as a ``(4, b)`` array, one row per metric (:data:`NAMES` order)."""
    h, w = shape
    out = np.empty((len(NAMES), len(stats.valid)))
    metric_values(
        np.ascontiguousarray(sums, dtype=np.float64), stats.valid, stats.unit, stats.michelson,
        not (h < MIN_MSCN_SIZE or w < MIN_MSCN_SIZE), h >= 3 and w >= 3, out,
    )  # fmt: skip
    return out
