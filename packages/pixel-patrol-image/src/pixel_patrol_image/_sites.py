"""Compiled ripple and step of one edge site of ``raster-compression`` (see ``docs/metrics.md``).

A site's ripple is the non-monotone excess (total variation minus net change) of its two
flanks across the edge, minus that along the edge; its step is the Sobel-smoothed jump
between the pixels ``FLANK_FAR`` away on either side. :func:`site_x` and :func:`site_y` are
the two orientations (edge normal along X or along Y).

8- and 16-bit pixels take an integer path: every excess is an integer below ``2**18`` and
their sums fit int32, so the flank sums are exact there and equal, converted at the end, to
the float64 sums of the general path term by term (the same bits), at a fraction of the
cost (no conversion per read, and the compiler turns the four along-edge runs into SIMD
code). Other pixel types take the float64 path.

Every excess a site adds is the excess of four pixels in a row or a column, and neighbouring
sites share most of them. On rows dense with sites, :func:`excess_rows` computes the excess
of every run of four once per row, as SIMD code, into a ring of rows, and
:func:`mapped_site_x` and :func:`mapped_site_y` add a site's from there: a few reads instead
of ten excess computations (stacks of noisy 16-bit planes: the measuring pass 25 % faster).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import types
from numba.extending import overload

from pixel_patrol_image._jit import compiled

FLANK_NEAR = 3
FLANK_FAR = 6
"""The ringing flank on each side of an edge site: pixels 3 to 6 along the edge normal."""

FLANK = FLANK_FAR - FLANK_NEAR + 1
"""Samples per flank (and per along-edge segment): equal lengths give noise equal odds."""

SMALL_INTS = (types.uint8, types.int8, types.uint16, types.int16)
"""Pixel types whose flank sums are exact in int32."""


@compiled
def _tv_excess(a, b, c, d):  # type: ignore[no-untyped-def]
    """Total variation of the run ``a, b, c, d`` minus its net change: 0 when monotone."""
    a, b, c, d = np.float64(a), np.float64(b), np.float64(c), np.float64(d)
    return abs(b - a) + abs(c - b) + abs(d - c) - abs(d - a)


@compiled
def _flank(x, i, c):  # type: ignore[no-untyped-def]
    """Across and along ripple of one flank of an X-axis site on row ``i``: the 4x4 block of
    rows ``i-2..i+1`` and columns ``c..c+3``.

    Across: the non-monotone excess of row ``i`` over the four columns. Along: the same for
    each column over the four rows, summed (the caller divides by ``FLANK``).
    """
    r0, r1, r2, r3 = x[i - 2, c : c + 4], x[i - 1, c : c + 4], x[i, c : c + 4], x[i + 1, c : c + 4]
    along = 0.0
    for k in range(4):
        along += _tv_excess(r0[k], r1[k], r2[k], r3[k])
    return _tv_excess(r2[0], r2[1], r2[2], r2[3]), along


@compiled
def float_site_x(x, i, j):  # type: ignore[no-untyped-def]
    """Ripple (across - along) and step of an X-axis site at ``(i, j)``, in float64."""
    a1, b1 = _flank(x, i, j + FLANK_NEAR)
    a2, b2 = _flank(x, i, j - FLANK_FAR)
    hi = x[i - 1, j + 6] + 2.0 * x[i, j + 6] + x[i + 1, j + 6]
    lo = x[i - 1, j - 6] + 2.0 * x[i, j - 6] + x[i + 1, j - 6]
    return a1 + a2 - (b1 + b2) / FLANK, abs(hi - lo) * 0.25


@compiled
def float_site_y(x, i, j):  # type: ignore[no-untyped-def]
    """:func:`float_site_x` with the axes swapped (a Y-axis site: the edge runs along X)."""
    a1, b1 = _flank(x.T, j, i + FLANK_NEAR)
    a2, b2 = _flank(x.T, j, i - FLANK_FAR)
    hi = x[i + 6, j - 1] + 2.0 * x[i + 6, j] + x[i + 6, j + 1]
    lo = x[i - 6, j - 1] + 2.0 * x[i - 6, j] + x[i - 6, j + 1]
    return a1 + a2 - (b1 + b2) / FLANK, abs(hi - lo) * 0.25


@compiled
def _int_excess(a, b, c, d):  # type: ignore[no-untyped-def]
    """:func:`_tv_excess` of 8/16-bit values, exact in int32."""
    a, b, c, d = np.int32(a), np.int32(b), np.int32(c), np.int32(d)
    return abs(b - a) + abs(c - b) + abs(d - c) - abs(d - a)


@compiled
def int_site_x(x, i, j):  # type: ignore[no-untyped-def]
    """:func:`float_site_x` of 8/16-bit pixels: the flank sums in int32 (exact)."""
    across = np.int32(0)
    along = np.int32(0)
    for c in (j + FLANK_NEAR, j - FLANK_FAR):
        r0, r1, r2, r3 = (
            x[i - 2, c : c + 4],
            x[i - 1, c : c + 4],
            x[i, c : c + 4],
            x[i + 1, c : c + 4],
        )
        across += _int_excess(r2[0], r2[1], r2[2], r2[3])
        for k in range(4):
            along += _int_excess(r0[k], r1[k], r2[k], r3[k])
    hi = x[i - 1, j + 6] + 2.0 * x[i, j + 6] + x[i + 1, j + 6]
    lo = x[i - 1, j - 6] + 2.0 * x[i, j - 6] + x[i + 1, j - 6]
    return np.float64(across) - np.float64(along) / FLANK, abs(hi - lo) * 0.25


@compiled
def int_site_y(x, i, j):  # type: ignore[no-untyped-def]
    """:func:`float_site_y` of 8/16-bit pixels: the flank sums in int32 (exact)."""
    across = np.int32(0)
    along = np.int32(0)
    for c in (i + FLANK_NEAR, i - FLANK_FAR):
        across += _int_excess(x[c, j], x[c + 1, j], x[c + 2, j], x[c + 3, j])
        for k in range(4):
            row = x[c + k, j - 2 : j + 2]
            along += _int_excess(row[0], row[1], row[2], row[3])
    hi = x[i + 6, j - 1] + 2.0 * x[i + 6, j] + x[i + 6, j + 1]
    lo = x[i - 6, j - 1] + 2.0 * x[i - 6, j] + x[i - 6, j + 1]
    return np.float64(across) - np.float64(along) / FLANK, abs(hi - lo) * 0.25


RING = 16
"""Rows of each excess map kept by :func:`excess_rows`: the sites of row ``i`` read rows
``i - 6`` to ``i + 6``, which fit in 16 slots (``row & 15``) without two sharing one."""


@compiled
def _excess_line(a, b, c, d, out):  # type: ignore[no-untyped-def]
    """``out[k]`` = the excess of ``a[k], b[k], c[k], d[k]`` (8/16-bit values), one SIMD loop.

    In float32, which holds these integers exactly (below ``2**18``, and the sums of eight of
    them below ``2**21``) and runs twice as fast as numba's integer arithmetic (widened to
    64 bits)."""
    for k in range(len(a)):
        p, q, r, s = np.float32(a[k]), np.float32(b[k]), np.float32(c[k]), np.float32(d[k])
        out[k] = abs(q - p) + abs(r - q) + abs(s - r) - abs(s - p)


@compiled
def _excess_row(x, r, kind, ring, tags):  # type: ignore[no-untyped-def]
    """Row ``r`` of the vertical (``kind`` 0: rows ``r..r+3`` of each column) or horizontal
    (``kind`` 1: columns ``c..c+3`` of row ``r``) excess map, computed once into its slot."""
    slot = r & (RING - 1)
    out = ring[kind, slot]
    if tags[kind, slot] != r:
        tags[kind, slot] = r
        if kind == 0:
            _excess_line(x[r], x[r + 1], x[r + 2], x[r + 3], out)
        else:
            n = x.shape[1] - 3
            row = x[r]
            _excess_line(row[0:n], row[1 : n + 1], row[2 : n + 2], row[3 : n + 3], out)
    return out


@compiled
def excess_rows(x, i, with_y, ring, tags):  # type: ignore[no-untyped-def]
    """Fill the excess rows the sites of row ``i`` read, for :func:`mapped_site_x` and
    :func:`mapped_site_y`: the horizontal row ``i`` and the vertical row ``i - 2`` (X sites)
    and, ``with_y``, the vertical rows ``i + 3`` and ``i - 6`` and the horizontal rows
    ``i - 6..i - 3`` and ``i + 3..i + 6`` (Y sites).

    On rows dense with sites (noise, texture) this replaces the ten excess computations of
    each site, sixteen scattered reads and their conversions, by a few reads of maps whose
    rows are computed once, as SIMD code, and serve the thirteen rows of sites around them.
    Rows already in the ring are not computed again.
    """
    _excess_row(x, i, 1, ring, tags)
    _excess_row(x, i - 2, 0, ring, tags)
    if with_y:
        _excess_row(x, i + FLANK_NEAR, 0, ring, tags)
        _excess_row(x, i - FLANK_FAR, 0, ring, tags)
        for k in range(FLANK):
            _excess_row(x, i + FLANK_NEAR + k, 1, ring, tags)
            _excess_row(x, i - FLANK_FAR + k, 1, ring, tags)


@compiled
def mapped_site_x(x, i, j, ring):  # type: ignore[no-untyped-def]
    """:func:`int_site_x` from the rows :func:`excess_rows` filled (the same value: the excess
    values are integers, exact in float32, and so are their sums)."""
    h, v = ring[1, i & (RING - 1)], ring[0, (i - 2) & (RING - 1)]
    jn, jf = j + FLANK_NEAR, j - FLANK_FAR
    across = np.float64(h[jn] + h[jf])
    along = np.float64((v[jn] + v[jn + 1]) + (v[jn + 2] + v[jn + 3]) + ((v[jf] + v[jf + 1]) + (v[jf + 2] + v[jf + 3])))
    up, mid, down = x[i - 1], x[i], x[i + 1]
    hi = up[j + 6] + 2.0 * mid[j + 6] + down[j + 6]
    lo = up[jf] + 2.0 * mid[jf] + down[jf]
    return across - along / FLANK, abs(hi - lo) * 0.25


@compiled
def mapped_site_y(x, i, j, ring):  # type: ignore[no-untyped-def]
    """:func:`int_site_y` from the rows :func:`excess_rows` filled (the same value)."""
    near, far, m = i + FLANK_NEAR, i - FLANK_FAR, RING - 1
    across = np.float64(ring[0, near & m, j] + ring[0, far & m, j])
    c = j - 2
    along = np.float64(
        (ring[1, near & m, c] + ring[1, (near + 1) & m, c]) + (ring[1, (near + 2) & m, c] + ring[1, (near + 3) & m, c])
        + ((ring[1, far & m, c] + ring[1, (far + 1) & m, c]) + (ring[1, (far + 2) & m, c] + ring[1, (far + 3) & m, c]))
    )
    top, bottom = x[i + 6], x[i - 6]
    hi = top[j - 1] + 2.0 * top[j] + top[j + 1]
    lo = bottom[j - 1] + 2.0 * bottom[j] + bottom[j + 1]
    return across - along / FLANK, abs(hi - lo) * 0.25


def site_x(x: Any, i: Any, j: Any) -> Any:
    """:func:`int_site_x` for 8- and 16-bit integer pixels, :func:`float_site_x` otherwise;
    chosen by the compiler from the pixel type (a kernel passed as an argument would defeat
    numba's on-disk cache)."""
    raise NotImplementedError("only callable from compiled code")


def site_y(x: Any, i: Any, j: Any) -> Any:
    """:func:`site_x` for Y-axis sites."""
    raise NotImplementedError("only callable from compiled code")


@overload(site_x, jit_options={"nogil": True, "error_model": "numpy"})
def _site_x(x, i, j):  # type: ignore[no-untyped-def]
    if x.dtype in SMALL_INTS:
        return lambda x, i, j: int_site_x(x, i, j)
    return lambda x, i, j: float_site_x(x, i, j)


@overload(site_y, jit_options={"nogil": True, "error_model": "numpy"})
def _site_y(x, i, j):  # type: ignore[no-untyped-def]
    if x.dtype in SMALL_INTS:
        return lambda x, i, j: int_site_y(x, i, j)
    return lambda x, i, j: float_site_y(x, i, j)


def uses_excess_maps(x: Any) -> Any:
    """Whether :func:`mapped_site_x` and :func:`mapped_site_y` serve pixels like ``x`` (8- and
    16-bit integers: their sums are exact in any order); a constant of the compiled code."""
    raise NotImplementedError("only callable from compiled code")


@overload(uses_excess_maps, jit_options={"nogil": True, "error_model": "numpy"})
def _uses_excess_maps(x):  # type: ignore[no-untyped-def]
    if x.dtype in SMALL_INTS:
        return lambda x: True
    return lambda x: False
