"""Compiled loops of ``raster-compression``: one scan of a plane region for both metrics.

The scan reads the pixels in their own dtype (no conversion pass, no percentiles) and writes
only small accumulators: the four sums of the blocking index and, for the ringing index, a
histogram of edge-site strengths whose bins carry the sums the index needs. Everything is
computed from the pixels within ``SUPPORT`` of a pixel in *global* plane coordinates, so a
tile scanned with a halo of ``SUPPORT`` pixels adds exactly the terms the whole plane would.
Formulas and sources: ``docs/metrics.md``.
"""

from __future__ import annotations

import math

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

BINS_PER_OCTAVE = 16
"""Histogram bins of a site strength ``d > 0``: its binary exponent and the top four bits of
its mantissa (``math.frexp``), so 16 bins per octave, each an exact interval of floats."""

EXPONENT_OFFSET = 1100
"""Added to the binary exponent (at least -1073 for a float64) so that bins start at 0."""

BINS = (EXPONENT_OFFSET + 1100) * BINS_PER_OCTAVE
"""Number of possible bins (exponents up to 1024)."""


@compiled
def _gradients(x, r0, r1, c0, c1, dx, dy):  # type: ignore[no-untyped-def]
    """Sobel derivatives (divided by 4) of ``x`` on rows ``r0..r1-1``, columns ``c0..c1-1``.

    ``dx[i, j]`` is the X derivative smoothed along Y: ``(s[j+1] - s[j-1])`` with ``s`` the
    ``[1, 2, 1] / 4`` average of rows ``i-1..i+1``; ``dy`` the same with the axes swapped.
    Callers keep the range one pixel inside ``x``. Written in float64 from any input dtype.
    """
    for i in range(r0, r1):
        for j in range(c0, c1):
            right = x[i - 1, j + 1] + 2.0 * x[i, j + 1] + x[i + 1, j + 1]
            left = x[i - 1, j - 1] + 2.0 * x[i, j - 1] + x[i + 1, j - 1]
            below = x[i + 1, j - 1] + 2.0 * x[i + 1, j] + x[i + 1, j + 1]
            above = x[i - 1, j - 1] + 2.0 * x[i - 1, j] + x[i - 1, j + 1]
            dx[i, j] = (right - left) * 0.25
            dy[i, j] = (below - above) * 0.25


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
        for c in (j - k, j + k):
            along += _tv_excess(x[i - 2, c], x[i - 1, c], x[i, c], x[i + 1, c])
    hi = x[i - 1, j + 6] + 2.0 * x[i, j + 6] + x[i + 1, j + 6]
    lo = x[i - 1, j - 6] + 2.0 * x[i, j - 6] + x[i + 1, j - 6]
    return across, along / FLANK, abs(hi - lo) * 0.25


@compiled
def _site_y(x, i, j):  # type: ignore[no-untyped-def]
    """:func:`_site_x` with the axes swapped (a Y-axis site: the edge runs along X)."""
    across = _tv_excess(x[i + 3, j], x[i + 4, j], x[i + 5, j], x[i + 6, j]) + _tv_excess(
        x[i - 3, j], x[i - 4, j], x[i - 5, j], x[i - 6, j]
    )
    along = 0.0
    for k in range(FLANK_NEAR, FLANK_FAR + 1):
        for r in (i - k, i + k):
            along += _tv_excess(x[r, j - 2], x[r, j - 1], x[r, j], x[r, j + 1])
    hi = x[i + 6, j - 1] + 2.0 * x[i + 6, j] + x[i + 6, j + 1]
    lo = x[i - 6, j - 1] + 2.0 * x[i - 6, j] + x[i - 6, j + 1]
    return across, along / FLANK, abs(hi - lo) * 0.25


@compiled
def _add_site(d, across, along, step, counts, ripple, squares, steps, bounds):  # type: ignore[no-untyped-def]
    """Add one site to its strength bin unless one of its values is not finite."""
    ripple_i = across - along
    if not (np.isfinite(ripple_i) and np.isfinite(step) and np.isfinite(d)):
        return
    b = strength_bin(d)
    counts[b] += 1
    ripple[b] += ripple_i
    squares[b] += ripple_i * ripple_i
    steps[b] += step
    bounds[0] = min(bounds[0], b)
    bounds[1] = max(bounds[1], b)


@compiled
def strength_bin(d):  # type: ignore[no-untyped-def]
    """Histogram bin of a finite strength ``d > 0`` (monotone non-decreasing in ``d``)."""
    mantissa, exponent = math.frexp(d)  # d = mantissa * 2**exponent, 0.5 <= mantissa < 1
    top = int((2.0 * mantissa - 1.0) * BINS_PER_OCTAVE)  # exact: a power-of-two scaling
    return (exponent + EXPONENT_OFFSET) * BINS_PER_OCTAVE + top


@compiled
def scan(x, own, origin, shape, sites, dx, dy, counts, ripple, squares, steps, bounds, blocking):  # type: ignore[no-untyped-def]
    """Accumulate both metrics' terms for the pixels ``own`` of the region ``x``.

    Parameters
    ----------
    x
        2-D region of a plane (any real dtype), holding the own pixels and up to ``SUPPORT``
        pixels of halo around them (less at the plane border).
    own
        ``(r0, r1, c0, c1)``: the own pixels ``x[r0:r1, c0:c1]``.
    origin
        Global ``(row, column)`` of ``x[0, 0]`` in the plane.
    shape
        Global ``(height, width)`` of the plane.
    sites
        Whether to scan for ringing edge sites (needs the full ``SUPPORT`` halo).
    dx, dy
        float64 scratch of ``x.shape`` for the Sobel derivatives.
    counts, ripple, squares, steps
        Strength histogram: sites, sums of ripple (across - along), of its square and of
        the steps, per bin.
    bounds
        ``[lowest, highest]`` bin touched so far (int64, updated).
    blocking
        float64 ``[on-grid |step| sum, on-grid count, off-grid sum, off-grid count]``
        (updated): every step from an own pixel to its right or lower neighbour.
    """
    r0, r1, c0, c1 = own
    oy, ox = origin
    h, w = shape
    _block_steps(x, r0, r1, c0, c1, oy, ox, h, w, blocking)
    if not sites:
        return
    g0, g1 = max(r0 - 1, 1), min(r1 + 1, x.shape[0] - 1)
    g2, g3 = max(c0 - 1, 1), min(c1 + 1, x.shape[1] - 1)
    _gradients(x, g0, g1, g2, g3, dx, dy)
    for i in range(r0, r1):
        gi = oy + i
        for j in range(c0, c1):
            gj = ox + j
            ax, ay = abs(dx[i, j]), abs(dy[i, j])
            if ax >= ORIENTATION * ay and ax > 0.0:
                if 2 <= gi <= h - 2 and SUPPORT <= gj < w - SUPPORT:
                    if ax > abs(dx[i, j - 1]) and ax >= abs(dx[i, j + 1]):
                        a, b, s = _site_x(x, i, j)
                        _add_site(ax, a, b, s, counts, ripple, squares, steps, bounds)
            elif ay >= ORIENTATION * ax and ay > 0.0:
                if 2 <= gj <= w - 2 and SUPPORT <= gi < h - SUPPORT:
                    if ay > abs(dy[i - 1, j]) and ay >= abs(dy[i + 1, j]):
                        a, b, s = _site_y(x, i, j)
                        _add_site(ay, a, b, s, counts, ripple, squares, steps, bounds)


@compiled
def _block_steps(x, r0, r1, c0, c1, oy, ox, h, w, out):  # type: ignore[no-untyped-def]
    """|steps| to the right and lower neighbour of the own pixels, on and off the 8-px grid.

    A step between global columns (rows) ``c`` and ``c + 1`` is on the grid when ``c + 1`` is a
    multiple of ``BLOCK``. Steps with a non-finite end are left out.
    """
    on = n_on = off = n_off = 0.0
    for i in range(r0, r1):
        gi = oy + i
        down = gi + 1 < h
        for j in range(c0, c1):
            gj = ox + j
            v = x[i, j] * 1.0
            if gj + 1 < w:
                step = abs(x[i, j + 1] - v)
                if np.isfinite(step):
                    if (gj + 1) % BLOCK == 0:
                        on += step
                        n_on += 1.0
                    else:
                        off += step
                        n_off += 1.0
            if down:
                step = abs(x[i + 1, j] - v)
                if np.isfinite(step):
                    if (gi + 1) % BLOCK == 0:
                        on += step
                        n_on += 1.0
                    else:
                        off += step
                        n_off += 1.0
    out[0] += on
    out[1] += n_on
    out[2] += off
    out[3] += n_off
