"""Planes in the padded float32 layout with their finite mask, range and robust bounds.

Every metric of this package works on finite pixels only: NaN and ±Inf are treated as missing
data, so one bad pixel removes itself (and the filter windows or pixel pairs it takes part in)
but never poisons the whole plane. A batch handed to :func:`prepare` is either entirely finite
or has a non-finite pixel in every plane (see :func:`pixel_patrol_image._planes.per_plane`),
so which code path a plane takes depends on that plane alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pixel_patrol_image._layout import Layout
from pixel_patrol_image._order import order_statistics
from pixel_patrol_image._stats import (
    COUNTED_DTYPES,
    RANKS,
    PlaneStats,
    centre,
    ranks_for,
    stats_from_ranks,
)
from pixel_patrol_image._workspace import Workspace


@dataclass(frozen=True, slots=True)
class FloatPlanes:
    """A batch of ``b`` planes in the padded float32 layout, plus room for derived maps.

    Attributes
    ----------
    layout
        Geometry of the ``b`` planes (``layout.planes == b``).
    buf
        Flat float32 buffer holding ``slots`` groups of ``b`` planes: group 0 is
        ``x - offset`` (0 at non-finite pixels), groups 1 .. ``maps - 1`` are free for the
        caller, and with ``masked`` the last group is the finite mask (1.0 / 0.0).
    maps
        Groups before the mask.
    masked
        Whether some pixel of every plane is non-finite (and the mask group exists).
    stats
        Range, percentiles, offset and finite count per plane, in input units.
    unit
        Per-plane factor, a power of two, by which ``x - offset`` was multiplied: 1 for
        8/16-bit integers (whose float32 values and Laplacians stay exact), about ``1 / D``
        otherwise so that squares cannot overflow float32 (see
        :meth:`~pixel_patrol_image._stats.PlaneStats.unit_exp`). Being a power of two it
        changes no rounding. ``inf`` or 0 for planes of subnormal or huge values, whose
        unit float64 cannot hold: use :attr:`scaled_range` for ``D * unit``.
    stack
        Layout of the whole buffer (all groups).
    """

    layout: Layout
    buf: np.ndarray
    maps: int
    masked: bool
    stats: PlaneStats
    unit: np.ndarray
    range_units: np.ndarray
    """``D * unit`` per plane, computed without forming ``unit`` (see :attr:`scaled_range`)."""
    stack: Layout = field(init=False)

    def __post_init__(self) -> None:
        """Derive the layout of the whole buffer once."""
        planes = self.layout.planes * (self.maps + self.masked)
        object.__setattr__(self, "stack", self.layout.with_planes(planes))

    def group(self, index: int) -> np.ndarray:
        """``(b, block)`` view of group ``index`` (per-plane ``(b, 1)`` scalars broadcast)."""
        b = self.layout.planes
        return self.stack.blocks(self.buf, index * b, b)

    def pixels(self, index: int, margin: int = 0) -> np.ndarray:
        """``(b, H - 2 margin, W - 2 margin)`` view of the pixels of group ``index``."""
        b = self.layout.planes
        return self.stack.interior(self.buf, index * b, b, margin)

    @property
    def scaled_range(self) -> np.ndarray:
        """Dynamic range ``D`` in the units of ``buf`` (finite for any input), float64."""
        return self.range_units

    @property
    def scale32(self) -> np.ndarray:
        """Dynamic range ``D`` in the units of ``buf``, float32, shaped ``(b, 1)``."""
        return self.range_units.astype(np.float32)[:, None]

    @property
    def mask_group(self) -> int | None:
        """Index of the finite-mask group, ``None`` when every pixel is finite."""
        return self.maps if self.masked else None


def prepare(
    raw: np.ndarray,
    masked: bool,
    ws: Workspace,
    maps: int = 1,
    stats: PlaneStats | None = None,
) -> FloatPlanes:
    """Statistics of a ``(b, H, W)`` batch and its conversion to the padded float32 layout.

    Parameters
    ----------
    raw
        Planes in the input dtype (bool, integer or float).
    masked
        True when every plane has a non-finite pixel, False when none has.
    ws
        Scratch buffers.
    maps
        Groups of ``b`` planes to allocate before the mask group (group 0 is the data).
    stats
        Statistics of the whole planes when ``raw`` holds tiles of them (see
        :mod:`pixel_patrol_image._tiled`); computed from ``raw`` when ``None``.
    """
    if raw.dtype.kind == "b":
        raw = raw.view(np.uint8)
    b, h, w = raw.shape
    layout = Layout(b, h, w)
    finite = np.isfinite(raw) if masked else None
    stats = plane_stats(raw, finite) if stats is None else stats
    unit_exp = stats.unit_exp(raw.dtype)
    with np.errstate(over="ignore"):
        unit = np.ldexp(1.0, unit_exp)
    stack = layout.with_planes(b * (maps + masked))
    buf = ws.get("planes", (stack.size,), np.float32)
    fp = FloatPlanes(layout, buf, maps, masked, stats, unit, stats.scaled_range(raw.dtype))
    centre(raw, stats, fp.pixels(0))
    stack.clear_padding(buf)
    if finite is not None:
        np.copyto(fp.pixels(0), 0.0, where=~finite)
        fp.pixels(maps)[...] = finite
    return fp


def plane_stats(raw: np.ndarray, finite: np.ndarray | None) -> PlaneStats:
    """Min, max, 1st/99th percentiles and median of the finite values of each plane (exact)."""
    if raw.dtype.kind == "b":
        raw = raw.view(np.uint8)
    b = len(raw)
    flat = raw.reshape(b, -1)
    if finite is None:
        n = flat.shape[1]
        if n == 0:
            return stats_from_ranks(np.zeros((b, len(RANKS)), raw.dtype), np.zeros(b))
        return stats_from_ranks(order_statistics(flat, ranks_for(n)[0]), np.full(b, float(n)))
    ranked = np.zeros((b, len(RANKS)), dtype=raw.dtype)
    count = np.zeros(b)
    for i, (row, ok) in enumerate(zip(flat, finite.reshape(b, -1), strict=True)):
        values = row[ok]
        if values.size:
            ranked[i] = order_statistics(values[None], ranks_for(values.size)[0])[0]
            count[i] = values.size
    return stats_from_ranks(ranked, count)


__all__ = ["COUNTED_DTYPES", "FloatPlanes", "PlaneStats", "plane_stats", "prepare"]
