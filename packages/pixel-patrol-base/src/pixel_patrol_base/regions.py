"""Regions of an image: the one place that turns ``Region`` slices into numbers.

Loaders accept any region of slices with positive steps (``ImageFile.read``); the engine works
on non-empty boxes with unit steps. Both forms come from :func:`region_steps`, so a region means
the same to every loader and to the engine.
"""

from __future__ import annotations

from collections.abc import Sequence

from pixel_patrol_base.contracts import Region

__all__ = ["normalise_region", "region_shape", "region_steps"]


def region_steps(region: Region | None, shape: Sequence[int]) -> list[tuple[int, int, int]]:
    """``(start, stop, step)`` per axis with ``0 <= start <= stop <= extent`` and ``step >= 1``.

    Raises
    ------
    ValueError
        When the region has the wrong number of axes, is not made of slices, or has a step < 1.
    """
    if region is None:
        return [(0, int(n), 1) for n in shape]
    if len(region) != len(shape):
        raise ValueError(f"region has {len(region)} slices, image has {len(shape)} axes")
    out = []
    for sl, n in zip(region, shape, strict=True):
        if not isinstance(sl, slice):
            raise ValueError(f"region must be a tuple of slices, got {type(sl).__name__}")
        start, stop, step = sl.indices(int(n))
        if step < 1:
            raise ValueError("region slices must have a positive step")
        out.append((start, max(start, stop), step))
    return out


def region_shape(region: Region | None, shape: Sequence[int]) -> tuple[int, ...]:
    """Shape of the array that ``region`` cuts from an image of ``shape``."""
    return tuple(len(range(a, b, s)) for a, b, s in region_steps(region, shape))


def normalise_region(region: Region | None, shape: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """A region (or ``None`` for the whole image) as explicit ``(start, stop)`` per axis.

    Raises
    ------
    ValueError
        As :func:`region_steps`, and for an empty box or a step other than 1 (the engine's
        pieces and chunks are always non-empty boxes).
    """
    steps = region_steps(region, shape)
    if any(step != 1 or stop <= start for start, stop, step in steps):
        raise ValueError(f"region {region} is not a non-empty box with unit steps")
    return tuple((start, stop) for start, stop, _ in steps)
