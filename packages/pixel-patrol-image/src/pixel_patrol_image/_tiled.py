"""Plane programs of the image processors: the same values on planes seen tile by tile.

A plane too large for one piece of work (or cut by a memory chunk) is visited in tiles that
carry a halo (see :mod:`pixel_patrol_base.planes`). Every program first surveys the plane's
exact order statistics (:mod:`pixel_patrol_image._survey`), from which the working values of
every tile are formed exactly as for the whole plane; its last pass then sums each tile's own
pixels and finishes with the metrics' formulas:

* :class:`QualityProgram`: survey, then the MSCN / texture / Laplacian sums.

``raster-compression`` needs no survey; its program is
:class:`pixel_patrol_image._compression_program.CompressionProgram`.

Programs are frozen dataclasses of plain values, so they pickle to Dask workers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from pixel_patrol_base.contracts import PlaneTile
from pixel_patrol_image._planes import weight_name
from pixel_patrol_image._stats import PlaneStats
from pixel_patrol_image._survey import Survey
from pixel_patrol_image._workspace import thread_workspace


def own_pixels(tile: PlaneTile) -> np.ndarray:
    """The tile's own pixels (no halo)."""
    y0, y1, x0, x1 = tile.own
    return tile.data[y0:y1, x0:x1]


def with_weights(values: Mapping[str, float]) -> dict[str, float]:
    """Metric values plus their plane-count weights (1 where defined, else 0)."""
    out: dict[str, float] = {}
    for name, v in values.items():
        out[name] = float(v)
        out[weight_name(name)] = int(np.isfinite(v))
    return out


@dataclass(frozen=True, slots=True)
class _Surveyed:
    """What every program knows once its survey is done."""

    stats: PlaneStats
    masked: bool


def _surveyed(survey: Survey, shape: tuple[int, int]) -> _Surveyed:
    stats = survey.stats()
    return _Surveyed(stats, bool(stats.count[0] < shape[0] * shape[1]))


@dataclass(frozen=True, slots=True)
class QualityProgram:
    """``raster-quality`` on one plane: survey passes, then one pass of sums."""

    dtype: str
    shape: tuple[int, int]
    survey: Survey
    known: _Surveyed | None = None

    @property
    def last(self) -> bool:
        """The sums pass is the last one."""
        return self.known is not None

    def visit(self, tile: PlaneTile) -> Any:
        """Survey partial, or the tile's :data:`~pixel_patrol_image._quality_kernels.SUMS`."""
        if self.known is None:
            return self.survey.visit(own_pixels(tile))
        from pixel_patrol_image._quality_kernels import tile_sums

        ws = thread_workspace("raster-quality tiles")
        sums = tile_sums(tile.data[None], self.known.masked, self.known.stats, tile.own, ws)
        return sums[0]

    def merge(self, partials: Sequence[Any]) -> Any:
        """Survey partials merge exactly; sums add up."""
        if self.known is None:
            return Survey.merge(partials)
        return np.sum(partials, axis=0)

    def advance(self, merged: Any) -> QualityProgram:
        """The next survey pass, or the sums pass once the statistics are known."""
        survey = self.survey.advance(merged)
        known = _surveyed(survey, self.shape) if survey.done else None
        return replace(self, survey=survey, known=known)

    def finish(self, merged: Any) -> Mapping[str, float]:
        """The four metrics and their plane counts."""
        from pixel_patrol_image._quality_kernels import from_sums

        assert self.known is not None
        values = from_sums(self.known.stats, np.asarray(merged)[None], np.dtype(self.dtype), self.shape)
        return with_weights({k: v[0] for k, v in values.items()})


__all__ = ["QualityProgram", "own_pixels", "with_weights"]
