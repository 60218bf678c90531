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
from pixel_patrol_image._order import COUNTED_DTYPES, order_statistics
from pixel_patrol_image._workspace import Workspace

LOW_PERCENTILE = 1.0
HIGH_PERCENTILE = 99.0
"""Robust bounds: the 1st and 99th percentiles of the finite values (numpy's linear rule).

They ignore up to 1 % of outliers at each end (hot pixels, dead pixels, a saturated spot),
which the plain minimum and maximum would let dominate contrast and range estimates.
"""


@dataclass(frozen=True, slots=True)
class PlaneStats:
    """Per-plane facts shared by the metrics (float64, one entry per plane).

    Attributes
    ----------
    vmin, vmax
        Finite minimum and maximum (``+inf``/``-inf`` for a plane without finite values).
    lo, hi
        1st and 99th percentiles of the finite values (NaN without any).
    offset
        The value subtracted before conversion to float32: the median of the finite values
        (the lower one for an even count, always a pixel value; 0 without finite values).
        Centring on the bulk of the pixels keeps the float32 values, and the rounding of
        sums of squares, small for most pixels; every metric here is translation invariant.
    count
        Number of finite pixels.
    """

    vmin: np.ndarray
    vmax: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    offset: np.ndarray
    count: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        """Planes with at least two distinct finite values; all metrics are null elsewhere."""
        return self.vmax > self.vmin

    @property
    def scale(self) -> np.ndarray:
        """Dynamic range ``D`` per plane: ``hi - lo``, or ``vmax - vmin`` when that is 0.

        The fallback covers sparse images (bright spots on under 1 % of the pixels), whose
        robust range is empty although the plane is not constant. Invalid planes get 1 so
        that divisions stay finite; their results are discarded.
        """
        robust = self.hi - self.lo
        full = np.where(self.valid, self.vmax - self.vmin, 1.0)
        return np.where(robust > 0, robust, full)


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
        otherwise so that squares cannot overflow float32 (see :func:`_unit`). Being a power
        of two it changes no rounding.
    stack
        Layout of the whole buffer (all groups).
    """

    layout: Layout
    buf: np.ndarray
    maps: int
    masked: bool
    stats: PlaneStats
    unit: np.ndarray
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
    def scale32(self) -> np.ndarray:
        """Dynamic range ``D`` in the units of ``buf``, float32, shaped ``(b, 1)``."""
        return (self.stats.scale * self.unit).astype(np.float32)[:, None]

    @property
    def mask_group(self) -> int | None:
        """Index of the finite-mask group, ``None`` when every pixel is finite."""
        return self.maps if self.masked else None


def prepare(raw: np.ndarray, masked: bool, ws: Workspace, maps: int = 1) -> FloatPlanes:
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
    """
    if raw.dtype == np.bool_:
        raw = raw.view(np.uint8)
    b, h, w = raw.shape
    layout = Layout(b, h, w)
    finite = np.isfinite(raw) if masked else None
    stats = plane_stats(raw, finite)
    unit = np.ones(b) if raw.dtype.char in COUNTED_DTYPES else _unit(stats)
    stack = layout.with_planes(b * (maps + masked))
    buf = ws.get("planes", (stack.size,), np.float32)
    fp = FloatPlanes(layout, buf, maps, masked, stats, unit)
    _centre(raw, stats.offset, unit, fp.pixels(0), fp.group(0))
    stack.clear_padding(buf)
    if finite is not None:
        np.copyto(fp.pixels(0), 0.0, where=~finite)
        fp.pixels(maps)[...] = finite
    return fp


MAX_MAGNITUDE = 2.0**60
"""Largest ``|x - offset|`` after scaling: squares (2^120) and window sums of them stay far
below the float32 limit (2^128)."""


def _unit(stats: PlaneStats) -> np.ndarray:
    """Power of two near ``1 / D``, smaller if needed to keep values within ``MAX_MAGNITUDE``.

    Only absurd outliers (beyond 10^18 dynamic ranges from the median) trigger the second
    rule; the bulk of such a plane then loses float32 precision, but nothing overflows.
    Beyond about 10^56 dynamic ranges the bulk underflows to 0 and the filter metrics of
    the plane are null.
    """
    near = -np.round(np.log2(stats.scale))
    reach = np.maximum(stats.vmax - stats.offset, stats.offset - stats.vmin)
    reach = np.where(np.isfinite(reach) & (reach > 0), reach, 1.0)
    cap = np.floor(np.log2(MAX_MAGNITUDE) - np.log2(reach))
    return np.exp2(np.minimum(near, cap))


def _centre(
    raw: np.ndarray,
    offset: np.ndarray,
    unit: np.ndarray,
    pixels: np.ndarray,
    blocks: np.ndarray,
) -> None:
    """Write ``(raw - offset) * unit`` into the padded float32 planes (padding left dirty).

    Types that float32 holds exactly are copied first and centred and scaled on the
    contiguous blocks (numpy runs ufuncs on the strided pixel view about three times slower);
    wider types are centred and scaled in float64 first, so that only the scaled values
    meet the float32 range.
    """
    if np.result_type(raw.dtype, np.float32) == np.float32:
        np.copyto(pixels, raw, casting="unsafe")
        blocks -= offset.astype(np.float32)[:, None]
        if raw.dtype.char not in COUNTED_DTYPES:
            blocks *= unit.astype(np.float32)[:, None]
        return
    wide = np.subtract(raw, offset[:, None, None], dtype=np.float64)
    wide *= unit[:, None, None]
    np.copyto(pixels, wide, casting="same_kind")


def plane_stats(raw: np.ndarray, finite: np.ndarray | None) -> PlaneStats:
    """Min, max, 1st/99th percentiles and median of the finite values of each plane."""
    b = len(raw)
    flat = raw.reshape(b, -1)
    if finite is None:
        return _stats(flat)
    rows = [row[ok] for row, ok in zip(flat, finite.reshape(b, -1), strict=True)]
    parts = [_stats(row[None]) for row in rows]
    fields = ("vmin", "vmax", "lo", "hi", "offset", "count")
    return PlaneStats(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))


def _stats(flat: np.ndarray) -> PlaneStats:
    """:class:`PlaneStats` of the rows of ``flat`` (every value finite)."""
    b, n = flat.shape
    if n == 0:
        nan, inf = np.full(b, np.nan), np.full(b, np.inf)
        return PlaneStats(inf, -inf, nan, nan, np.zeros(b), np.zeros(b))
    ranks, fractions = _ranks(n)
    v = order_statistics(flat, ranks)
    lo = _lerp(v[:, 2], v[:, 3], fractions[0])
    hi = _lerp(v[:, 4], v[:, 5], fractions[1])
    return PlaneStats(v[:, 0], v[:, 1], lo, hi, v[:, 6], np.full(b, float(n)))


def _ranks(n: int) -> tuple[list[int], tuple[float, float]]:
    """Ranks of min, max, the two neighbours of each percentile, and the median."""
    picks = [0, n - 1]
    fractions = []
    for q in (LOW_PERCENTILE, HIGH_PERCENTILE):
        h = (n - 1) * q / 100.0
        k = int(np.floor(h))
        picks += [k, min(k + 1, n - 1)]
        fractions.append(h - k)
    picks.append((n - 1) // 2)
    return picks, (fractions[0], fractions[1])


def _lerp(v0: np.ndarray, v1: np.ndarray, t: float) -> np.ndarray:
    """Linear interpolation between neighbouring order statistics (one formula everywhere)."""
    return v0 + (v1 - v0) * t
