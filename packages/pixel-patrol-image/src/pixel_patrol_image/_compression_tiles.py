"""``blocking_index`` and ``ringing_index`` as passes over a tile's own pixels.

The plane-at-once kernels (:mod:`pixel_patrol_image._compression_kernels`,
:mod:`pixel_patrol_image._ringing`) reduce whole planes. A plane seen in tiles gets the same
values from the same per-pixel arithmetic: each tile is prepared with the statistics of the
whole plane (so its working values are bit-identical), the maps are computed on the tile and
its halo, and only the own pixels are summed (in float64). Each metric is a
:class:`TiledMetric`: optional extra passes (collect, combine, advance), then a sums pass
(``sums`` per tile, added up) and ``value``. What differs from a whole plane:

* the 8-pixel coding grid is anchored at the plane origin, so a step is on the grid when its
  plane column (row) is ``8k + 7``, whatever the tile's offset;
* the ringing threshold needs the plane's median gradient, which an extra pass collects
  from the sample grid of the whole plane (:func:`gradient_samples`).

:data:`TILED_METRICS` lists the metrics ``raster-compression``'s plane program runs, in column
order; a new definition of a metric plugs in by implementing :class:`TiledMetric` and taking
its place there (its ``value`` on the summed tiles must equal the plane-at-once kernel's value
to 1e-6, which ``tests/test_tiled_metrics.py`` checks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from pixel_patrol_base.contracts import PlaneTile
from pixel_patrol_image import _ringing as rg
from pixel_patrol_image._compression_kernels import BLOCK
from pixel_patrol_image._filters import dilate
from pixel_patrol_image._robust import FloatPlanes, prepare
from pixel_patrol_image._stats import PlaneStats
from pixel_patrol_image._workspace import Workspace

RING_HALO = rg.FAR_RADIUS + rg.FAR_RADIUS + 4
"""Support of the ringing masks: transitions need strong edges within 8 px, the far region
needs transitions within 8 px, and a strong edge needs the smoothed plane within 4 px."""


def prepared(tile: PlaneTile, stats: PlaneStats, masked: bool, ws: Workspace) -> FloatPlanes:
    """The tile's data (own pixels and halo) in the padded layout, with the plane's statistics."""
    return prepare(tile.data[None], masked, ws, stats=stats)


def blocking_sums(fp: FloatPlanes, tile: PlaneTile) -> np.ndarray:
    """``[on, n_on, off, n_off]``: sum and count of |steps| on and off the 8-pixel grid.

    A step goes from an own pixel to its next neighbour along X or Y, where that neighbour
    exists in the plane; its phase is taken in plane coordinates.
    """
    y0, y1, x0, x1 = tile.own
    x = fp.pixels(0)[0]
    m = None if fp.mask_group is None else fp.pixels(fp.mask_group)[0]
    out = np.zeros(4)
    for axis, origin in ((1, tile.origin[1]), (0, tile.origin[0])):
        lo, hi = (x0, x1) if axis == 1 else (y0, y1)
        hi = min(hi, x.shape[axis] - 1)  # the last row/column of the plane has no next step
        if hi <= lo:
            continue
        steps, pairs = _steps(x, m, axis, (y0, y1, x0, x1), lo, hi)
        on = (origin + np.arange(lo, hi)) % BLOCK == BLOCK - 1
        on = on[None, :] if axis == 1 else on[:, None]
        out += [
            float(np.sum(steps, where=on, dtype=np.float64)),
            float(np.sum(pairs, where=on, dtype=np.float64)),
            float(np.sum(steps, where=~on, dtype=np.float64)),
            float(np.sum(pairs, where=~on, dtype=np.float64)),
        ]
    return out


def _steps(
    x: np.ndarray, m: np.ndarray | None, axis: int, own: tuple[int, int, int, int], lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray]:
    """|steps| from own pixels at positions ``lo .. hi - 1`` along ``axis`` to the next one,
    and whether both pixels are finite (1.0 / 0.0)."""
    y0, y1, x0, x1 = own
    if axis == 1:
        a, b = x[y0:y1, lo:hi], x[y0:y1, lo + 1 : hi + 1]
        ma = None if m is None else m[y0:y1, lo:hi] * m[y0:y1, lo + 1 : hi + 1]
    else:
        a, b = x[lo:hi, x0:x1], x[lo + 1 : hi + 1, x0:x1]
        ma = None if m is None else m[lo:hi, x0:x1] * m[lo + 1 : hi + 1, x0:x1]
    steps = np.abs(b - a)
    if ma is None:
        return steps, np.ones_like(steps)
    return steps * ma, ma


def sample_step(shape: tuple[int, int]) -> int:
    """Spacing of the regular grid the median gradient is taken on (as on whole planes)."""
    return max(1, int(np.sqrt(shape[0] * shape[1] / rg.MEDIAN_SAMPLES)))


def gradient_samples(fp: FloatPlanes, tile: PlaneTile, ws: Workspace) -> np.ndarray:
    """``(2 |gradient|)²`` at the own pixels on the plane's sample grid (finite ones only)."""
    grad2 = fp.stack.interior(rg.gradient_energy(fp, ws), 0, 1)[0]
    step = sample_step(tile.shape)
    y0, y1, x0, x1 = tile.own
    oy, ox = tile.origin
    rows = np.arange(y0 + (-(oy + y0)) % step, y1, step)
    cols = np.arange(x0 + (-(ox + x0)) % step, x1, step)
    values = grad2[np.ix_(rows, cols)]
    if fp.mask_group is not None:
        values = values[fp.pixels(fp.mask_group)[0][np.ix_(rows, cols)] > 0.5]
    return np.array(values, dtype=np.float32).ravel()


def median_gradient(samples: np.ndarray) -> float:
    """Median |gradient| from the merged samples (0 without any), as on whole planes."""
    if samples.size == 0:
        return 0.0
    return float(rg._median_of_roots(samples[None])[0])


def ringing_sums(fp: FloatPlanes, tile: PlaneTile, median: float, ws: Workspace) -> np.ndarray:
    """``[E_band, n_band, E_far, n_far]`` over the own pixels (energies in working units²)."""
    transition = _transitions(fp, ws, median)
    usable = rg._interior_with_finite_neighbours(fp, ws)
    near = dilate(transition, rg.RING_RADIUS)
    band = near & ~transition & usable
    far = ~dilate(near, rg.FAR_RADIUS - rg.RING_RADIUS) & usable
    energy = rg.oscillation_energy(fp, ws)
    y0, y1, x0, x1 = tile.own
    e = energy[0, y0:y1, x0:x1].astype(np.float64)
    b, f = band[0, y0:y1, x0:x1], far[0, y0:y1, x0:x1]
    return np.array([np.sum(e, where=b), b.sum(), np.sum(e, where=f), f.sum()], dtype=np.float64)


def _transitions(fp: FloatPlanes, ws: Workspace, median: float) -> np.ndarray:
    """:func:`pixel_patrol_image._ringing.edge_transitions` with the plane's median gradient."""
    layout = fp.layout
    grad2 = rg.gradient_energy(fp, ws)
    finite = None if fp.mask_group is None else fp.pixels(fp.mask_group) > 0.5
    threshold = np.maximum(rg.EDGE_FLOOR * fp.scaled_range, rg.EDGE_NOISE_FACTOR * median)
    blocks = fp.stack.blocks(grad2, 0, layout.planes)
    strong = blocks >= np.square(2 * threshold).astype(rg.F32)[:, None]
    transition = blocks >= np.square(2 * rg.TRANSITION_FRACTION * threshold).astype(rg.F32)[:, None]
    strong_px = rg._pixels(layout, strong)
    transition_px = rg._pixels(layout, transition)
    if finite is not None:
        strong_px &= finite
        transition_px &= finite
    return transition_px & dilate(strong_px, rg.FAR_RADIUS)


@dataclass(frozen=True, slots=True)
class PlaneFacts:
    """What a tiled metric knows about its plane once the survey is done."""

    stats: PlaneStats
    masked: bool
    shape: tuple[int, int]
    dtype: str

    @property
    def valid(self) -> bool:
        """At least two distinct finite values."""
        return bool(self.stats.valid[0])

    @property
    def scaled_range(self) -> float:
        """``D`` in working units (the units of the prepared tiles)."""
        return float(self.stats.scaled[0])


class TiledMetric(Protocol):
    """One metric of ``raster-compression`` as passes over the tiles of a plane.

    States and partials are plain picklable values (they travel between workers). Every
    method receives the tile prepared with the plane's statistics (``fp``) and the tile itself
    (own box, plane origin and shape, see :class:`~pixel_patrol_base.contracts.PlaneTile`).
    """

    name: str
    """The metric's column."""
    halo: int
    """Neighbourhood support in pixels (the processor's ``HALO`` is the largest)."""

    def start(self, plane: PlaneFacts) -> Any:
        """The state before the first extra pass (or the sums pass)."""
        ...

    def ready(self, state: Any) -> bool:
        """Whether the sums pass comes next."""
        ...

    def collect(self, state: Any, fp: FloatPlanes, tile: PlaneTile, ws: Workspace) -> Any:
        """Partial of an extra pass over one tile."""
        ...

    def combine(self, state: Any, partials: Sequence[Any]) -> Any:
        """The partials of an extra pass merged (any grouping, any order)."""
        ...

    def advance(self, state: Any, merged: Any) -> Any:
        """The state after an extra pass."""
        ...

    def sums(self, state: Any, fp: FloatPlanes, tile: PlaneTile, ws: Workspace) -> np.ndarray:
        """float64 sums over the tile's own pixels (added up over the tiles)."""
        ...

    def value(self, state: Any, sums: np.ndarray, plane: PlaneFacts) -> float:
        """The plane's value from the sums of all its tiles (NaN = null)."""
        ...


class BlockingTiles:
    """``blocking_index``: no extra pass; sums of |steps| on and off the grid."""

    name = "blocking_index"
    halo = 1

    def start(self, plane: PlaneFacts) -> Any:
        return None

    def ready(self, state: Any) -> bool:
        return True

    def collect(self, state: Any, fp: FloatPlanes, tile: PlaneTile, ws: Workspace) -> Any:
        raise AssertionError("blocking_index has no extra pass")

    def combine(self, state: Any, partials: Sequence[Any]) -> Any:
        raise AssertionError("blocking_index has no extra pass")

    def advance(self, state: Any, merged: Any) -> Any:
        raise AssertionError("blocking_index has no extra pass")

    def sums(self, state: Any, fp: FloatPlanes, tile: PlaneTile, ws: Workspace) -> np.ndarray:
        return blocking_sums(fp, tile)

    def value(self, state: Any, sums: np.ndarray, plane: PlaneFacts) -> float:
        return blocking_value(sums, plane.valid)


class RingingTiles:
    """``ringing_index`` as defined in :mod:`pixel_patrol_image._ringing`: one extra pass
    collects the gradient samples of the plane's median (state: ``None``, then the median)."""

    name = "ringing_index"
    halo = RING_HALO

    def start(self, plane: PlaneFacts) -> Any:
        return None

    def ready(self, state: Any) -> bool:
        return state is not None

    def collect(self, state: Any, fp: FloatPlanes, tile: PlaneTile, ws: Workspace) -> Any:
        return gradient_samples(fp, tile, ws)

    def combine(self, state: Any, partials: Sequence[Any]) -> Any:
        return np.concatenate(partials)

    def advance(self, state: Any, merged: Any) -> Any:
        return median_gradient(merged)

    def sums(self, state: Any, fp: FloatPlanes, tile: PlaneTile, ws: Workspace) -> np.ndarray:
        return ringing_sums(fp, tile, state, ws)

    def value(self, state: Any, sums: np.ndarray, plane: PlaneFacts) -> float:
        return ringing_value(sums, plane.valid, plane.shape, plane.scaled_range)


TILED_METRICS: tuple[TiledMetric, ...] = (BlockingTiles(), RingingTiles())
"""The metrics of ``raster-compression``'s plane program, in column order."""


def blocking_value(sums: np.ndarray, valid: bool) -> float:
    """``blocking_index`` from the plane's summed :func:`blocking_sums`."""
    on, n_on, off, n_off = sums
    if not (valid and n_on > 0 and n_off > 0 and off > 0):
        return float("nan")
    return float((on / n_on) / (off / n_off))


def ringing_value(sums: np.ndarray, valid: bool, shape: tuple[int, int], d: float) -> float:
    """``ringing_index`` from the plane's summed :func:`ringing_sums` (``d`` = D in working units)."""
    e_band, n_band, e_far, n_far = sums
    if not (valid and n_band > 0 and n_far > 0) or shape[0] < 3 or shape[1] < 3:
        return float("nan")
    d2 = d * d
    return float((e_band / d2 / n_band + rg.RINGING_EPS) / (e_far / d2 / n_far + rg.RINGING_EPS))


__all__ = [
    "RING_HALO",
    "TILED_METRICS",
    "BlockingTiles",
    "PlaneFacts",
    "RingingTiles",
    "TiledMetric",
    "blocking_sums",
    "blocking_value",
    "gradient_samples",
    "median_gradient",
    "prepared",
    "ringing_sums",
    "ringing_value",
    "sample_step",
]
