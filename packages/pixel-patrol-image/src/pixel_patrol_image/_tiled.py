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
    """``raster-compression`` on one plane: survey, the metrics' extra passes (the ringing
    threshold's gradient samples), then one pass of sums.

    After the survey, every pass visits each tile once for all metrics of
    :data:`pixel_patrol_image._compression_tiles.TILED_METRICS` (partials are tuples, one
    entry per metric; a metric that is ready for its sums takes no part in extra passes).
    """

    dtype: str
    shape: tuple[int, int]
    survey: Survey
    known: _Surveyed | None = None
    states: tuple[Any, ...] | None = None

    @property
    def last(self) -> bool:
        """The sums pass is the last one."""
        from pixel_patrol_image._compression_tiles import TILED_METRICS

        if self.states is None:
            return False
        return all(m.ready(s) for m, s in zip(TILED_METRICS, self.states, strict=True))

    def visit(self, tile: PlaneTile) -> Any:
        """Survey partial, one extra-pass partial per metric, or one sums vector per metric."""
        from pixel_patrol_image import _compression_tiles as ct

        if self.known is None or self.states is None:
            return self.survey.visit(own_pixels(tile))
        ws = Workspace()
        fp = ct.prepared(tile, self.known.stats, self.known.masked, ws)
        pairs = zip(ct.TILED_METRICS, self.states, strict=True)
        if self.last:
            return tuple(m.sums(s, fp, tile, ws) for m, s in pairs)
        return tuple(None if m.ready(s) else m.collect(s, fp, tile, ws) for m, s in pairs)

    def merge(self, partials: Sequence[Any]) -> Any:
        """Survey partials merge exactly; extra passes merge per metric; sums add up."""
        from pixel_patrol_image._compression_tiles import TILED_METRICS

        if self.states is None:
            return Survey.merge(partials)
        per_metric = list(zip(*partials, strict=True))
        if self.last:
            return tuple(np.sum(p, axis=0) for p in per_metric)
        return tuple(
            None if m.ready(s) else m.combine(s, list(p))
            for m, s, p in zip(TILED_METRICS, self.states, per_metric, strict=True)
        )

    def advance(self, merged: Any) -> CompressionProgram:
        """The next survey pass, or the metrics' next pass."""
        from pixel_patrol_image import _compression_tiles as ct

        if self.states is not None:
            states = tuple(
                s if m.ready(s) else m.advance(s, part)
                for m, s, part in zip(ct.TILED_METRICS, self.states, merged, strict=True)
            )
            return replace(self, states=states)
        survey = self.survey.advance(merged)
        if not survey.done:
            return replace(self, survey=survey)
        known = _surveyed(survey, self.shape)
        facts = ct.PlaneFacts(known.stats, known.masked, self.shape, self.dtype)
        states = tuple(m.start(facts) for m in ct.TILED_METRICS)
        return replace(self, survey=survey, known=known, states=states)

    def finish(self, merged: Any) -> Mapping[str, float]:
        """Every metric's value and its plane count."""
        from pixel_patrol_image import _compression_tiles as ct

        assert self.known is not None and self.states is not None
        facts = ct.PlaneFacts(self.known.stats, self.known.masked, self.shape, self.dtype)
        return with_weights(
            {
                m.name: m.value(s, np.asarray(sums), facts)
                for m, s, sums in zip(ct.TILED_METRICS, self.states, merged, strict=True)
            }
        )


__all__ = ["CompressionProgram", "QualityProgram", "own_pixels", "with_weights"]
