"""Per-plane statistics every metric shares, exact for any finite input of any pixel type.

From seven exact order statistics of a plane's finite values (minimum, maximum, the two
neighbours of the 1st and of the 99th percentile, and the median, all in the pixel type) come
the robust range ``D``, the centring offset and the power-of-two unit of the float32 working
values. Everything is computed from *differences* of order statistics, never from their
rounded values: ``2**60 + 3`` and ``2**60`` are 3 apart even though float64 cannot tell them
apart, and ``3e38 - (-3e38)`` does not overflow. Float planes are first brought into a *frame*
by an exact power of two (their largest magnitude below 1), so differences neither overflow
(values near the float64 limit) nor lose bits (subnormal values); integers need no frame.

A plane's working values are ``(x - offset) * 2**unit_exp`` in float32 (:func:`centre`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pixel_patrol_image._stats_kernels import DIFFS, STAT_FIELDS, plane_facts
from pixel_patrol_image._workspace import Workspace

LOW_PERCENTILE = 1.0
HIGH_PERCENTILE = 99.0
"""Robust bounds: the 1st and 99th percentiles of the finite values (numpy's linear rule).

They ignore up to 1 % of outliers at each end (hot pixels, dead pixels, a saturated spot),
which the plain minimum and maximum would let dominate contrast and range estimates.
"""

COUNTED_DTYPES = frozenset("bBhH?")
"""dtype.char of int8, uint8, int16, uint16 and bool: exact integers in float32, unit 1."""

MAX_MAGNITUDE_EXP = 60
"""Working values stay within 2**60 of 0: squares (2**120) and window sums of them stay far
below the float32 limit (2**128)."""

RANKS = ("min", "max", "lo0", "lo1", "hi0", "hi1", "median")
"""The order statistics a plane's statistics come from, in this order."""


def ranks_for(count: int) -> tuple[list[int], tuple[float, float]]:
    """Ranks (0-based, see :data:`RANKS`) and the two interpolation fractions for ``count``."""
    n = max(int(count), 1)
    picks = [0, n - 1]
    fractions = []
    for q in (LOW_PERCENTILE, HIGH_PERCENTILE):
        h = (n - 1) * q / 100.0
        k = math.floor(h)
        picks += [k, min(k + 1, n - 1)]
        fractions.append(h - k)
    picks.append((n - 1) // 2)
    return picks, (fractions[0], fractions[1])


@dataclass(frozen=True, slots=True)
class PlaneStats:
    """Per-plane facts shared by the metrics (one entry per plane).

    Attributes
    ----------
    ranked
        ``(b, 7)`` order statistics of :data:`RANKS` in the pixel type (exact).
    count
        Number of finite pixels (float64).
    fractions
        ``(b, 2)`` interpolation fractions of the 1st and 99th percentiles.
    frame
        Per plane, the exponent ``f`` with ``max |x| * 2**f < 1`` (0 for integer types).
    robust
        ``(P99 - P1) * 2**frame``, from exact differences.
    span
        ``D * 2**frame``: the dynamic range in frame units (``robust``, or ``max - min``
        when that is 0).
    reach
        ``max(vmax - offset, offset - vmin) * 2**frame``.
    vmin, vmax, lo, hi, offset
        Minimum, maximum, 1st and 99th percentile and median (the lower one for an even
        count, always a pixel value) as float64 (rounded for 64-bit integers).
    unit
        Per plane, the exponent of the working unit (see :meth:`unit_exp`).
    scaled
        ``D * 2**unit``, the dynamic range in working units (finite, about 1).
    valid
        Planes with at least two distinct finite values; all metrics are null elsewhere.
    contrast
        The Michelson contrast (see :attr:`michelson`).
    """

    ranked: np.ndarray
    count: np.ndarray
    fractions: np.ndarray
    frame: np.ndarray
    robust: np.ndarray
    span: np.ndarray
    reach: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    offset: np.ndarray
    unit: np.ndarray
    scaled: np.ndarray
    valid: np.ndarray
    contrast: np.ndarray

    @property
    def michelson(self) -> np.ndarray:
        """``(P99 - P1) / (|P99| + |P1|)`` per plane, 0 when ``P99 == P1``, NaN if invalid.

        In frame units, so neither the difference nor the sum can overflow.
        """
        return self.contrast

    @property
    def scale(self) -> np.ndarray:
        """Dynamic range ``D``: ``P99 - P1``, or ``max - min`` when that is 0.

        The fallback covers sparse images (bright spots on under 1 % of the pixels), whose
        robust range is empty although the plane is not constant. Invalid planes get 1.
        Values beyond the float64 range are ``inf``; use :attr:`span` and :meth:`unit_exp`.
        """
        with np.errstate(over="ignore"):
            return np.where(self.valid, np.ldexp(self.span, -self.frame), 1.0)

    def unit_exp(self, dtype: np.dtype | None = None) -> np.ndarray:
        """Exponent ``u`` of the working unit: ``D * 2**u`` in [0.5, 1) (0 for 8/16-bit).

        Smaller when an outlier lies more than ``2**60 D`` from the median, so that no
        working value exceeds ``2**60``; beyond that the bulk of such a plane loses float32
        precision (or underflows to 0), but nothing overflows. (Fixed by the pixel type of
        :attr:`ranked`; ``dtype`` is accepted for callers that pass it.)
        """
        return self.unit

    def scaled_range(self, dtype: np.dtype | None = None) -> np.ndarray:
        """``D * 2**unit_exp``: the dynamic range in working units (finite, about 1)."""
        return self.scaled


def stats_from_ranks(ranked: np.ndarray, count: np.ndarray) -> PlaneStats:
    """:class:`PlaneStats` from the order statistics of :data:`RANKS` (``(b, 7)``, pixel type).

    Planes with ``count == 0`` get NaN values and are not valid. Types whose values float64
    holds exactly, at ordinary magnitudes, take their differences directly; 64-bit integers
    and extreme floats go through :func:`difference`. The per-plane arithmetic on top of the
    differences is compiled (:func:`~pixel_patrol_image._stats_kernels.plane_facts`).
    """
    ranked = np.asarray(ranked)
    count = np.asarray(count, dtype=np.float64)
    nominal = ranked.astype(np.float64)
    b = len(ranked)
    plain = _plain(ranked.dtype, nominal)
    if plain:  # differences and flags formed by the compiled code
        frame = np.zeros(b, dtype=np.int64)
        diffs, valid = np.empty((b, len(DIFFS))), np.empty(b, dtype=np.bool_)
    else:
        frame = _frames(ranked)
        diffs = np.stack([difference(ranked[:, i], ranked[:, j], frame) for i, j in DIFFS], 1)
        valid = (count > 0) & (ranked[:, 1] > ranked[:, 0])
    out = np.empty((len(STAT_FIELDS), b))
    unit = np.empty(b, dtype=np.int64)
    plane_facts(
        nominal, plain, diffs, frame, count, valid, ranked.dtype.char in COUNTED_DTYPES,
        LOW_PERCENTILE, HIGH_PERCENTILE, MAX_MAGNITUDE_EXP, out, unit,
    )  # fmt: skip
    _, _, robust, span, reach, vmin, vmax, lo, hi, offset, scaled, contrast = out
    return PlaneStats(
        ranked, count, out[:2].T, frame, robust, span, reach, vmin, vmax, lo, hi, offset,
        unit, scaled, valid, contrast,
    )  # fmt: skip


PLAIN_LIMIT = 2.0**500
"""Float planes whose nonzero magnitudes lie within this factor of 1 need no frame."""


def _plain(dtype: np.dtype, nominal: np.ndarray) -> bool:
    """Whether float64 differences of the order statistics are exact-rounded without a frame."""
    if dtype.kind in "biu":
        return dtype.itemsize <= 4
    with np.errstate(invalid="ignore"):
        big = np.abs(nominal[:, :2])
    finite = big[np.isfinite(big)]
    return bool(np.all(finite < PLAIN_LIMIT) and np.all((finite == 0) | (finite > 1 / PLAIN_LIMIT)))


def _frames(ranked: np.ndarray) -> np.ndarray:
    """Frame exponents: ``-e`` with ``max(|min|, |max|) < 2**e`` for floats, 0 for integers."""
    if ranked.dtype.kind != "f":
        return np.zeros(len(ranked), dtype=np.int64)
    with np.errstate(invalid="ignore"):
        big = np.fmax(np.abs(ranked[:, 0].astype(np.float64)), np.abs(ranked[:, 1].astype(np.float64)))
    big = np.where(np.isfinite(big) & (big > 0), big, 1.0)
    return -np.frexp(big)[1].astype(np.int64)


def difference(a: np.ndarray, b: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """``(a - b) * 2**frame`` as float64, correctly rounded, for arrays of one pixel type.

    64-bit integers subtract exactly in modular uint64 arithmetic (the true difference of two
    values of one type is below 2**64 in magnitude); floats subtract in their frame, where
    nothing overflows or underflows.
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "iu" and a.dtype.itemsize == 8:
        return _wide_int_difference(a, b)
    if a.dtype.kind in "biu":
        return a.astype(np.float64) - b.astype(np.float64)
    f = np.broadcast_to(frame, np.broadcast_shapes(np.shape(a), np.shape(frame)))
    result: np.ndarray = np.ldexp(a.astype(np.float64), f) - np.ldexp(b.astype(np.float64), f)
    return result


def _wide_int_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact ``a - b`` of int64/uint64 arrays, rounded once to float64."""
    ua, ub = a.astype(np.uint64), b.astype(np.uint64)
    up = ua - ub  # modular: the true difference when a >= b
    down = ub - ua
    ge = a >= b
    return np.where(ge, up.astype(np.float64), -down.astype(np.float64))


def centre(raw: np.ndarray, stats: PlaneStats, out: np.ndarray) -> None:
    """Write the working values ``(raw - offset) * 2**unit_exp`` of ``(b, h, w)`` into ``out``.

    8/16-bit integers and float32 planes of ordinary range subtract in float32 (exact for the
    integers); every other type and range goes through float64 in the plane's frame, so that
    no intermediate overflows, underflows or rounds 64-bit integers. ``out`` is a float32
    ``(b, h, w)`` array or view; non-finite pixels get junk (the caller masks them).
    """
    dtype = raw.dtype
    unit = stats.unit_exp(dtype)
    origin = stats.ranked[:, 6]
    if dtype.char in COUNTED_DTYPES or _plain_float32(dtype, stats, unit):
        np.copyto(out, raw, casting="unsafe")
        out -= origin.astype(np.float32)[:, None, None]
        if dtype.char not in COUNTED_DTYPES:
            out *= np.ldexp(np.float32(1.0), unit).astype(np.float32)[:, None, None]
        return
    with np.errstate(invalid="ignore", over="ignore"):
        frame = stats.frame[:, None, None]
        wide = difference(raw, origin[:, None, None].astype(raw.dtype), frame)
        wide = np.ldexp(wide, (unit - stats.frame)[:, None, None])
    np.copyto(out, wide, casting="same_kind")


DIRECT_DTYPES = frozenset("bBhHf")
"""dtype.char of the types compiled kernels convert row by row themselves (see
:func:`working_input`): int8, uint8, int16, uint16 and float32."""


def working_input(
    raw: np.ndarray, stats: PlaneStats, ws: Workspace | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What a compiled kernel needs to form the working values row by row.

    Returns ``(array, offset, unit)`` such that the working values are
    ``(float32(array) - offset) * unit`` in float32: the pixels themselves with the plane's
    float32 offset and unit for 8/16-bit integers and float32 planes of ordinary range, or
    the working values already formed by :func:`centre` (offset 0, unit 1) for every other
    type and range. The second case writes into the buffer ``quality_x`` of ``ws`` (taken
    only then: the first needs no buffer).
    """
    if raw.dtype.kind == "b":
        raw = raw.view(np.uint8)
    b = len(raw)
    unit = stats.unit_exp(raw.dtype)
    if raw.dtype.char in COUNTED_DTYPES or (
        raw.dtype.char in DIRECT_DTYPES and _plain_float32(raw.dtype, stats, unit)
    ):
        offset = stats.ranked[:, 6].astype(np.float32)
        scale = np.ldexp(np.float32(1.0), unit).astype(np.float32)
        return raw, offset, scale
    out = np.empty(raw.shape, np.float32) if ws is None else ws.get("quality_x", raw.shape, np.float32)
    centre(raw, stats, out)
    return out, np.zeros(b, np.float32), np.ones(b, np.float32)


def _plain_float32(dtype: np.dtype, stats: PlaneStats, unit: np.ndarray) -> bool:
    """float16/32 planes whose working values float32 arithmetic computes without overflow."""
    if np.result_type(dtype, np.float32) != np.float32:
        return False
    return bool(np.all((stats.frame >= -120) & (stats.frame <= 120) & (np.abs(unit) <= 100)))


__all__ = [
    "COUNTED_DTYPES",
    "DIRECT_DTYPES",
    "HIGH_PERCENTILE",
    "LOW_PERCENTILE",
    "RANKS",
    "PlaneStats",
    "centre",
    "difference",
    "ranks_for",
    "stats_from_ranks",
    "working_input",
]
