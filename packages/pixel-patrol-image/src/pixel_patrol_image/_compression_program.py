"""``raster-compression`` on a plane seen in tiles: two passes of mergeable partials.

Pass 1 visits every tile for its blocking sums and the strength histogram of its edge sites
(:func:`pixel_patrol_image._tiles.scan_region` with nothing summed); merged, the histogram
gives the plane's strong-edge bin (:func:`pixel_patrol_image._ringing.strong_bin`). Pass 2
sums the ripple of the strong sites only (recomputing the tile's derivatives, but neither the
blocking steps nor the site counts, which pass 1's partials keep). Both need no statistic of
the plane beyond what the partials carry, so there is no survey pass, and the values equal
those of the whole plane (``_tiles.plane_partials``) to float rounding. The program is a frozen dataclass of plain
values, so it pickles to Dask workers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from pixel_patrol_base.contracts import PlaneTile
from pixel_patrol_image import _blocking, _ringing
from pixel_patrol_image._compression_loops import BINS
from pixel_patrol_image._planes import weight_name


@dataclass(frozen=True, slots=True)
class CompressionProgram:
    """Both compression metrics of one plane, from tiles with a halo of ``SUPPORT`` pixels.

    Attributes
    ----------
    blocking
        Merged blocking partials of the plane, once pass 1 is done.
    counted
        Merged ringing partials of pass 1 (the site counts per strength bin, nothing summed).
    summed_from
        First strong strength bin (pass 2), once pass 1 is done.
    """

    blocking: _blocking.BlockingPartials | None = None
    counted: _ringing.RingingPartials | None = None
    summed_from: int | None = None

    @property
    def last(self) -> bool:
        """Pass 2 (the ripple sums) is the last one."""
        return self.summed_from is not None

    def visit(self, tile: PlaneTile) -> Any:
        """Pass 1: ``(blocking, ringing)`` partials, nothing summed; pass 2: the ripple sums
        of the strong sites (:func:`~pixel_patrol_image._tiles.measure_region`: no site
        counting, no blocking steps)."""
        from pixel_patrol_image._compression_kernels import scratch
        from pixel_patrol_image._tiles import measure_region, scan_region

        y0, y1, x0, x1 = tile.own
        own = (slice(y0, y1), slice(x0, x1))
        if self.summed_from is not None:
            return measure_region(
                tile.data, own, tile.origin, tile.shape, scratch(), self.summed_from
            )
        return scan_region(tile.data, own, tile.origin, tile.shape, scratch(), summed_from=BINS)

    def merge(self, partials: Sequence[Any]) -> Any:
        """Partials of disjoint tiles add up."""
        if self.summed_from is None:
            return (
                _blocking.merge(*(b for b, _ in partials)),
                _ringing.merge(*(r for _, r in partials)),
            )
        return _ringing.merge(*partials)

    def advance(self, merged: Any) -> CompressionProgram:
        """Pass 2, summing from the strong bin the merged histogram gives."""
        block, ring = merged
        first = _ringing.strong_bin(ring.counts, ring.first_bin)
        summed_from = BINS if first is None else first
        return replace(self, blocking=block, counted=ring, summed_from=summed_from)

    def finish(self, merged: Any) -> Mapping[str, float]:
        """Both metrics and their plane counts (1 where defined, else 0)."""
        assert self.blocking is not None and self.counted is not None
        counted = replace(self.counted, summed_from=merged.summed_from)
        values = {
            "blocking_index": _blocking.finalize(self.blocking),
            "ringing_index": _ringing.finalize(_ringing.merge(counted, merged)),
        }
        out: dict[str, float] = {}
        for name, v in values.items():
            out[name] = float(v)
            out[weight_name(name)] = int(np.isfinite(v))
        return out


__all__ = ["CompressionProgram"]
