"""``blocking_index``: steps across the 8-pixel coding grid against steps everywhere else.

The grid is anchored at the origin of the plane (global coordinates), so a tile adds exactly
the steps the whole plane would: every step belongs to the pixel it starts from (towards the
right or lower neighbour). See ``docs/metrics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BlockingPartials", "blocking_partials", "finalize", "merge"]

SUPPORT = 1
"""A step reads the pixel to the right and the one below: a halo of one pixel."""


@dataclass(frozen=True, slots=True)
class BlockingPartials:
    """Sums of |steps| on and off the block grid, and how many steps each."""

    on_sum: float
    on_count: float
    off_sum: float
    off_count: float


def blocking_partials(
    plane_with_halo: np.ndarray,
    own_region: tuple[slice, slice],
    global_offset: tuple[int, int],
    plane_shape: tuple[int, int],
) -> BlockingPartials:
    """Step sums of the own pixels of a tile (see :func:`pixel_patrol_image._tiles.scan_region`)."""
    from pixel_patrol_image._tiles import scan_region

    return scan_region(plane_with_halo, own_region, global_offset, plane_shape)[0]


def merge(*parts: BlockingPartials) -> BlockingPartials:
    """Sum of partials of disjoint pixel sets."""
    return BlockingPartials(
        sum(p.on_sum for p in parts),
        sum(p.on_count for p in parts),
        sum(p.off_sum for p in parts),
        sum(p.off_count for p in parts),
    )


def finalize(parts: BlockingPartials) -> float:
    """Mean |step| on the grid over the mean off it; NaN without a step of either kind or
    without any off-grid activity."""
    if parts.on_count == 0 or parts.off_count == 0 or not parts.off_sum > 0:
        return float("nan")
    return (parts.on_sum / parts.on_count) / (parts.off_sum / parts.off_count)
