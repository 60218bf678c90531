"""``raster-compression``: blocking index and ringing index, per 2-D plane.

The blocking index is about 1 without block coding, the ringing index 0 without ringing;
both grow with the artefact. A leaf
reports the mean over its valid planes and, in an internal column, how many planes that was,
so rolled-up rows are the plain mean over all valid planes they cover. Formulas, sources and
caveats: ``docs/metrics.md``.

This module imports only numpy and pyarrow; the kernels are loaded on the first ``run``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pixel_patrol_base.contracts import Column, ImageContext, PlaneProgram
from pixel_patrol_image._columns import metric_columns
from pixel_patrol_image._processor import PlaneMetricProcessor

_DESCRIPTIONS = (
    (
        "blocking_index",
        "Mean |step| between neighbours across the 8-pixel block grid over the mean |step| "
        "off it, per plane; about 1 without block coding, higher when blocky.",
    ),
    (
        "ringing_index",
        "Ripple parallel to the plane's strongest edges per unit edge height: non-monotone "
        "excess of the 3-6 px flanks across the edge minus along it; 0 without ringing; null "
        "when no edge stands out of the noise.",
    ),
)


class RasterCompression(PlaneMetricProcessor):
    """Leaf processor for compression-artefact metrics of one plane at a time."""

    NAME: ClassVar[str] = "raster-compression"
    COLUMNS: ClassVar[tuple[Column, ...]] = metric_columns(_DESCRIPTIONS)
    HALO: ClassVar[int] = 6
    """Support of the ringing index's edge sites (``_compression_loops.SUPPORT``); blocking
    needs 1."""

    def program(self, image: ImageContext, shape: tuple[int, int]) -> PlaneProgram:
        """Count the edge sites and sum the blocking steps, then sum the strong sites' ripple."""
        from pixel_patrol_image._compression_program import CompressionProgram

        return CompressionProgram()

    def kernels(self) -> tuple[tuple[str, ...], Callable[..., Any]]:
        """Metric names and the per-plane kernel."""
        from pixel_patrol_image._compression_kernels import NAMES, compression_metrics

        return NAMES, compression_metrics


__all__ = ["RasterCompression"]
