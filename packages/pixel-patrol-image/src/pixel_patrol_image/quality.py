"""``raster-quality``: Michelson contrast, MSCN variance, texture heterogeneity, Laplacian variance.

Each metric is computed per 2-D (Y, X) plane of a leaf block; a leaf reports the mean over its
valid planes and, in an internal column, how many planes that was, so rolled-up rows are the
plain mean over all valid planes they cover. Formulas, sources and caveats: ``docs/metrics.md``.

This module imports only numpy and pyarrow; the kernels (numpy and compiled numba loops) are
loaded on the first ``run`` so that listing or selecting plugins stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pixel_patrol_base.contracts import Column, ImageContext, PlaneProgram
from pixel_patrol_image._columns import metric_columns
from pixel_patrol_image._processor import PlaneMetricProcessor

_DESCRIPTIONS = (
    (
        "michelson_contrast",
        "Michelson contrast (P99 - P1) / (|P99| + |P1|) of the finite pixel values, per plane; "
        "0..1; null for constant planes.",
    ),
    (
        "mscn_variance",
        "Variance of BRISQUE mean-subtracted contrast-normalised coefficients (7x7 Gaussian, "
        "sigma 7/6, C = dynamic range / 255), per plane; null for constant or < 7x7 planes.",
    ),
    (
        "texture_heterogeneity",
        "Coefficient of variation std/mean of the local standard deviation map (same Gaussian "
        "window), per plane; null for constant or < 7x7 planes.",
    ),
    (
        "laplacian_variance",
        "Variance of the 4-neighbour Laplacian over interior pixels (intensity units squared), "
        "per plane; sharpness; null for constant or < 3x3 planes.",
    ),
)


class RasterQuality(PlaneMetricProcessor):
    """Leaf processor for the image-quality metrics of one plane at a time."""

    NAME: ClassVar[str] = "raster-quality"
    COLUMNS: ClassVar[tuple[Column, ...]] = metric_columns(_DESCRIPTIONS)
    HALO: ClassVar[int] = 3
    """The BRISQUE window's radius (the Laplacian needs 1)."""

    def program(self, image: ImageContext, shape: tuple[int, int]) -> PlaneProgram:
        """Survey the plane's statistics, then sum its tiles."""
        from pixel_patrol_image._survey import Survey
        from pixel_patrol_image._tiled import QualityProgram

        return QualityProgram(image.dtype, shape, Survey(image.dtype))

    def kernels(self) -> tuple[tuple[str, ...], Callable[..., Any]]:
        """Metric names and the per-plane kernel."""
        from pixel_patrol_image._quality_kernels import NAMES, quality_metrics

        return NAMES, quality_metrics


__all__ = ["RasterQuality"]
