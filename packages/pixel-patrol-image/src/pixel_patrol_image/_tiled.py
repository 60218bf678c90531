"""Plane programs of the image processors: the same values on planes seen tile by tile.

A plane too large for one piece of work (or cut by a memory chunk) is visited in tiles that
carry a halo (see :mod:`pixel_patrol_base.planes`). Every program first surveys the plane's
exact order statistics (:mod:`pixel_patrol_image._survey`), from which the working values of
every tile are formed exactly as for the whole plane; its last pass then sums each tile's own
pixels and finishes with the metrics' formulas:

* :class:`QualityProgram`: survey, then the MSCN / texture / Laplacian sums;
* :class:`CompressionProgram`: survey, then the gradient samples behind the ringing
  threshold, then the blocking and ringing sums.

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
from pixel_patrol_image._workspace import Workspace


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

        sums = tile_sums(tile.data[None], self.known.masked, self.known.stats, tile.own, Workspace())
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


@dataclass(frozen=True, slots=True)
class CompressionProgram:
    """``raster-compression`` on one plane: survey, gradient samples, then blocking and
    ringing sums."""

    dtype: str
    shape: tuple[int, int]
    survey: Survey
    known: _Surveyed | None = None
    median: float | None = None

    @property
    def last(self) -> bool:
        """The sums pass is the last one."""
        return self.median is not None

    def visit(self, tile: PlaneTile) -> Any:
        """Survey partial, gradient samples, or ``[blocking sums, ringing sums]``."""
        from pixel_patrol_image import _compression_tiles as ct

        if self.known is None:
            return self.survey.visit(own_pixels(tile))
        ws = Workspace()
        fp = ct.prepared(tile, self.known.stats, self.known.masked, ws)
        if self.median is None:
            return ct.gradient_samples(fp, tile, ws)
        blocking = ct.blocking_sums(fp, tile)
        return np.concatenate([blocking, ct.ringing_sums(fp, tile, self.median, ws)])

    def merge(self, partials: Sequence[Any]) -> Any:
        """Survey partials merge exactly; samples concatenate; sums add up."""
        if self.known is None:
            return Survey.merge(partials)
        if self.median is None:
            return np.concatenate(partials)
        return np.sum(partials, axis=0)

    def advance(self, merged: Any) -> CompressionProgram:
        """The next survey pass, the samples pass, or the sums pass."""
        from pixel_patrol_image._compression_tiles import median_gradient

        if self.known is not None:
            return replace(self, median=median_gradient(merged))
        survey = self.survey.advance(merged)
        known = _surveyed(survey, self.shape) if survey.done else None
        return replace(self, survey=survey, known=known)

    def finish(self, merged: Any) -> Mapping[str, float]:
        """Both metrics and their plane counts."""
        from pixel_patrol_image import _compression_tiles as ct

        assert self.known is not None
        stats = self.known.stats
        valid = bool(stats.valid[0])
        d = float(stats.scaled_range(np.dtype(self.dtype))[0])
        sums = np.asarray(merged)
        return with_weights(
            {
                "blocking_index": ct.blocking_value(sums[:4], valid),
                "ringing_index": ct.ringing_value(sums[4:], valid, self.shape, d),
            }
        )


__all__ = ["CompressionProgram", "QualityProgram", "own_pixels", "with_weights"]
