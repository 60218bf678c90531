"""Compiled loops of ``raster-compression``: one scan of a plane region for both metrics.

The scan reads the pixels in their own dtype (no conversion pass, no percentiles) and writes
only small accumulators: the four sums of the blocking index and, for the ringing index, a
histogram of edge-site strengths whose bins carry the sums the index needs. Everything is
computed from the pixels within ``SUPPORT`` of a pixel in *global* plane coordinates, so a
tile scanned with a halo of ``SUPPORT`` pixels adds exactly the terms the whole plane would.
Formulas and sources: ``docs/metrics.md``.
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_image._jit import compiled

BLOCK = 8
"""Block size of the coding grid (JPEG, MPEG-1/2, H.261/263 luma transforms)."""

FLANK_NEAR = 3
FLANK_FAR = 6
"""The ringing flank on each side of an edge site: pixels 3 to 6 along the edge normal."""

FLANK = FLANK_FAR - FLANK_NEAR + 1
"""Samples per flank (and per along-edge segment): equal lengths give noise equal odds."""

ALONG_FIRST = -2
"""Along-edge segments run over rows (columns) ``-2 .. +1`` around the site's row (column)."""

ORIENTATION = 2.0
"""A site on the X axis needs ``|Dx| >= 2 |Dy|`` (edge within about 27 degrees of the Y axis)."""

SUPPORT = FLANK_FAR
"""Farthest pixel (chessboard distance) a site or a step reads: the halo a tile needs."""

BIN_SHIFT = 48
"""Histogram bin of a site strength ``d >= 0``: the bits of the float64 ``d`` shifted right
by 48, i.e. its binary exponent and the top four bits of its mantissa. Bins are exact
intervals of floats, monotone in ``d``, 16 per octave; one octave lower is 16 bins lower."""

BINS_PER_OCTAVE = 16

BINS = 1 << 15
"""Number of bins (11 exponent bits and 4 mantissa bits of a non-negative float64)."""


@compiled
def _row_pass(x, i, c0, c1, oy, ox, h, w, dx, dy, blocking):  # type: ignore[no-untyped-def]
    """Sobel derivatives (divided by 4) of row ``i`` on columns ``c0..c1-1``, in float64.

    ``dx[i, j]`` is the X derivative smoothed along Y, ``(s[j+1] - s[j-1])`` with ``s`` the
    ``[1, 2, 1] / 4`` average of rows ``i-1..i+1``; ``dy`` the same with the axes swapped.
    The caller keeps row ``i`` and the columns one pixel inside ``x``.
    """
    for j in range(c0, c1):
        right = x[i - 1, j + 1] + 2.0 * x[i, j + 1] + x[i + 1, j + 1]
        left = x[i - 1, j - 1] + 2.0 * x[i, j - 1] + x[i + 1, j - 1]
        below = x[i + 1, j - 1] + 2.0 * x[i + 1, j] + x[i + 1, j + 1]
        above = x[i - 1, j - 1] + 2.0 * x[i - 1, j] + x[i - 1, j + 1]
        dx[i, j] = abs(right - left) * 0.25
        dy[i, j] = abs(below - above) * 0.25


@compiled
def _block_row(x, i, c0, c1, oy, ox, h, w, out):  # type: ignore[no-untyped-def]
    """|steps| from the pixels of row ``i`` to their right and lower neighbours.

    A step between plane columns (rows) ``c`` and ``c + 1`` is on the grid when ``c + 1`` is
    a multiple of ``BLOCK``. Steps with a non-finite end are left out.
    """
    gi = oy + i
    down = gi + 1 < h
    row_on = (gi + 1) % BLOCK == 0
    last = min(c1, w - 1 - ox)  # the last plane column has no right neighbour
    for j in range(c0, c1):
        v = x[i, j] * 1.0
        if j < last:
            step = abs(x[i, j + 1] - v)
            if np.isfinite(step):
                k = 0 if (ox + j + 1) % BLOCK == 0 else 2
                out[k] += step
                out[k + 1] += 1.0
        if down:
            step = abs(x[i + 1, j] - v)
            if np.isfinite(step):
                k = 0 if row_on else 2
                out[k] += step
                out[k + 1] += 1.0


@compiled
def _tv_excess(a, b, c, d):  # type: ignore[no-untyped-def]
    """Total variation of the run ``a, b, c, d`` minus its net change: 0 when monotone."""
    a, b, c, d = np.float64(a), np.float64(b), np.float64(c), np.float64(d)
    return abs(b - a) + abs(c - b) + abs(d - c) - abs(d - a)


@compiled
def _site_x(x, i, j):  # type: ignore[no-untyped-def]
    """Across-edge ripple, along-edge ripple and step of an X-axis site at ``(i, j)``."""
    across = _tv_excess(x[i, j + 3], x[i, j + 4], x[i, j + 5], x[i, j + 6]) + _tv_excess(
        x[i, j - 3], x[i, j - 4], x[i, j - 5], x[i, j - 6]
    )
    along = 0.0
    for k in range(FLANK_NEAR, FLANK_FAR + 1):
        along += _tv_excess(x[i - 2, j - k], x[i - 1, j - k], x[i, j - k], x[i + 1, j - k])
        along += _tv_excess(x[i - 2, j + k], x[i - 1, j + k], x[i, j + k], x[i + 1, j + k])
    hi = x[i - 1, j + 6] + 2.0 * x[i, j + 6] + x[i + 1, j + 6]
    lo = x[i - 1, j - 6] + 2.0 * x[i, j - 6] + x[i + 1, j - 6]
    return across - along / FLANK, abs(hi - lo) * 0.25


@compiled
def _site_y(x, i, j):  # type: ignore[no-untyped-def]
    """:func:`_site_x` with the axes swapped (a Y-axis site: the edge runs along X)."""
    across = _tv_excess(x[i + 3, j], x[i + 4, j], x[i + 5, j], x[i + 6, j]) + _tv_excess(
        x[i - 3, j], x[i - 4, j], x[i - 5, j], x[i - 6, j]
    )
    along = 0.0
    for k in range(FLANK_NEAR, FLANK_FAR + 1):
        along += _tv_excess(x[i - k, j - 2], x[i - k, j - 1], x[i - k, j], x[i - k, j + 1])
        along += _tv_excess(x[i + k, j - 2], x[i + k, j - 1], x[i + k, j], x[i + k, j + 1])
    hi = x[i + 6, j - 1] + 2.0 * x[i + 6, j] + x[i + 6, j + 1]
    lo = x[i - 6, j - 1] + 2.0 * x[i - 6, j] + x[i - 6, j + 1]
    return across - along / FLANK, abs(hi - lo) * 0.25


@compiled
def gradients_and_steps(x, own, origin, shape, dx, dy, blocking):  # type: ignore[no-untyped-def]
    """First pass: ``|Dx|``, ``|Dy|`` around the own pixels and the blocking sums.

    Parameters
    ----------
    x
        2-D region of a plane (any real dtype) with the own pixels and their halo.
    own
        ``(r0, r1, c0, c1)``: the own pixels ``x[r0:r1, c0:c1]``.
    origin, shape
        Plane coordinates of ``x[0, 0]``; plane ``(height, width)``.
    dx, dy
        float64 maps of ``x.shape``; written one pixel around the own pixels (where the
        3x3 window fits in ``x``).
    blocking
        float64 ``[on-grid |step| sum, count, off-grid sum, count]``, added to.
    """
    r0, r1, c0, c1 = own
    oy, ox = origin
    h, w = shape
    g2, g3 = max(c0 - 1, 1), min(c1 + 1, x.shape[1] - 1)
    for i in range(max(r0 - 1, 1), min(r1 + 1, x.shape[0] - 1)):
        _row_pass(x, i, g2, g3, oy, ox, h, w, dx, dy, blocking)
    for i in range(r0, r1):
        _block_row(x, i, c0, c1, oy, ox, h, w, blocking)


@compiled
def sites(x, own, origin, shape, dx, dy, floor, sums_from, count, counts, used, ripple, squares, steps):  # type: ignore[no-untyped-def]
    """Second pass: the edge sites of the own pixels with strength at least ``floor``.

    A site on the X axis is a pixel with ``|Dx| >= 2 |Dy|``, ``|Dx| > 0``, ``|Dx|`` strictly
    above its left and at least its right neighbour's, finite, whose support lies in the
    plane; likewise on Y. With ``count`` each site adds 1 to ``counts`` in its strength bin;
    sites in bins from ``sums_from`` on whose ripple and step are finite add 1 to ``used``
    and their ripple, its square and their step. ``floor`` lets a pass skip the sites it
    would add nothing for.
    """
    r0, r1, c0, c1 = own
    oy, ox = origin
    h, w = shape
    bits_x, bits_y = dx.view(np.int64), dy.view(np.int64)
    jx0, jx1 = max(c0, SUPPORT - ox), min(c1, w - SUPPORT - ox)
    jy0, jy1 = max(c0, 2 - ox), min(c1, w - 1 - ox)
    for i in range(r0, r1):
        gi = oy + i
        rows_x = 2 <= gi <= h - 2
        rows_y = SUPPORT <= gi < h - SUPPORT
        for j in range(c0, c1):
            ax, ay = dx[i, j], dy[i, j]
            if ax >= ay:
                if ax >= floor and ax >= ORIENTATION * ay and 0.0 < ax < np.inf and rows_x:
                    if jx0 <= j < jx1 and ax > dx[i, j - 1] and ax >= dx[i, j + 1]:
                        k = bits_x[i, j] >> BIN_SHIFT
                        _add(x, i, j, k, 0, counts, used, ripple, squares, steps, sums_from, count)
            elif ay >= floor and ay >= ORIENTATION * ax and ay < np.inf and rows_y:
                if jy0 <= j < jy1 and ay > dy[i - 1, j] and ay >= dy[i + 1, j]:
                    k = bits_y[i, j] >> BIN_SHIFT
                    _add(x, i, j, k, 1, counts, used, ripple, squares, steps, sums_from, count)


@compiled
def _add(x, i, j, k, axis, counts, used, ripple, squares, steps, sums_from, count):  # type: ignore[no-untyped-def]
    """Count the site at ``(i, j)`` in bin ``k``; from bin ``sums_from`` on also add its ripple
    and step, unless one of them is not finite (its support holds a NaN or an infinity)."""
    if count:
        counts[k] += 1
    if k < sums_from:
        return
    r, s = _site_x(x, i, j) if axis == 0 else _site_y(x, i, j)
    if np.isfinite(r) and np.isfinite(s):
        used[k] += 1
        ripple[k] += r
        squares[k] += r * r
        steps[k] += s
