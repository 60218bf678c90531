"""``raster-compression``: blocking index and ringing index, per 2-D plane.

Both are ratios that are about 1 for data without the artefact and grow with it. A leaf
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
        "Mean squared local-extremum excess (crests/troughs) 1-4 px outside strong edges over "
        "that farther than 8 px from them, per plane; about 1 without ringing; null without "
        "strong edges.",
    ),
)


class RasterCompression(PlaneMetricProcessor):
    """Leaf processor for compression-artefact metrics of one plane at a time."""

    NAME: ClassVar[str] = "raster-compression"
    COLUMNS: ClassVar[tuple[Column, ...]] = metric_columns(_DESCRIPTIONS)
    HALO: ClassVar[int] = 20
    """Support of the ringing masks (see ``_compression_tiles.RING_HALO``); blocking needs 1."""

    def program(self, image: ImageContext, shape: tuple[int, int]) -> PlaneProgram:
        """Survey the plane's statistics, collect its gradient samples, then sum its tiles."""
        from pixel_patrol_image._survey import Survey
        from pixel_patrol_image._tiled import CompressionProgram

        return CompressionProgram(image.dtype, shape, Survey(image.dtype))

    def kernels(self) -> tuple[tuple[str, ...], Callable[..., Any]]:
        """Metric names and the per-plane kernel."""
        from pixel_patrol_image._compression_kernels import NAMES, compression_metrics

        return NAMES, compression_metrics
