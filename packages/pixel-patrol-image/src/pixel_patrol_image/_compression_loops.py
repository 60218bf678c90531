"""Compiled loops of ``raster-compression``: one scan of a plane region for both metrics.

The scan reads the pixels in their own dtype (no conversion pass, no percentiles) and writes
only small accumulators: the four sums of the blocking index, a histogram of edge-site
strengths and a list of the sites. A second loop measures the ripple of the sites that
matter (the strong ones) and adds it to their bins. Everything is computed from the pixels
within ``SUPPORT`` of a pixel in plane coordinates, so a tile scanned with a halo of
``SUPPORT`` pixels adds exactly the terms the whole plane would. Formulas and sources:
``docs/metrics.md``.

Speed: rows are processed as whole-row loops without branches (derivatives, site tests,
steps), which the compiler turns into SIMD code; the Sobel derivatives of 8- and 16-bit
images are exact in float32 and computed so, other types in float64. Only the list of sites
(a few percent of the pixels) is walked one by one.
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
def _derivatives(x, r, c0, c1, one, dx_row, dy_row):  # type: ignore[no-untyped-def]
    """``|Dx|`` and ``|Dy|`` of row ``r`` on columns ``c0..c1-1`` (Sobel, divided by 4).

    ``Dx`` is ``s[j+1] - s[j-1]`` with ``s`` the ``[1, 2, 1] / 4`` average of rows
    ``r-1..r+1``; ``Dy`` the same with the axes swapped. In the type of ``one``.
    """
    two, quarter = one + one, one / (one + one + one + one)
    up, mid, down = x[r - 1], x[r], x[r + 1]
    for j in range(c0, c1):
        right = up[j + 1] * one + two * mid[j + 1] + down[j + 1]
        left = up[j - 1] * one + two * mid[j - 1] + down[j - 1]
        below = down[j - 1] * one + two * down[j] + down[j + 1]
        above = up[j - 1] * one + two * up[j] + up[j + 1]
        dx_row[j] = abs(right - left) * quarter
        dy_row[j] = abs(below - above) * quarter


@compiled
def _row_steps(row, below, c0, c1, last, zero):  # type: ignore[no-untyped-def]
    """Sums and counts of the finite |steps| from ``row[c0:c1]`` to the right (up to column
    ``last``) and to ``below`` (None-like: ``below`` may equal ``row`` with ``c1 == c0``).

    ``zero`` is 0 in the accumulator type: int64 for integer pixels (exact, and fast), float64
    otherwise (where non-finite steps are skipped).
    """
    right = down = zero
    n_right = n_down = 0
    for j in range(c0, last):
        step = abs(row[j + 1] - zero - row[j])
        ok = step < np.inf
        right += step if ok else zero
        n_right += 1 if ok else 0
    for j in range(c0, c1):
        step = abs(below[j] - zero - row[j])
        ok = step < np.inf
        down += step if ok else zero
        n_down += 1 if ok else 0
    return right, n_right, down, n_down


@compiled
def _grid_steps(row, first, last, zero):  # type: ignore[no-untyped-def]
    """Sum and count of the finite |steps| to the right from every 8th column ``first..``."""
    total = zero
    count = 0
    for j in range(first, last, BLOCK):
        step = abs(row[j + 1] - zero - row[j])
        ok = step < np.inf
        total += step if ok else zero
        count += 1 if ok else 0
    return total, count


@compiled
def _block_row(x, i, c0, c1, oy, ox, h, w, zero, out):  # type: ignore[no-untyped-def]
    """|steps| from row ``i``'s own pixels to their right and lower neighbours.

    A step between plane columns (rows) ``c`` and ``c + 1`` is on the grid when ``c + 1`` is
    a multiple of ``BLOCK``. Steps with a non-finite end are left out.
    """
    row = x[i]
    last = max(min(c1, w - 1 - ox), c0)  # the plane's last column has no right neighbour
    down = oy + i + 1 < h
    below = x[i + 1] if down else row
    right, n_right, vertical, n_vertical = _row_steps(row, below, c0, c1 if down else c0, last, zero)
    first_on = c0 + (BLOCK - 1 - (ox + c0) % BLOCK) % BLOCK  # ox + j + 1 = 0 mod 8
    on, n_on = _grid_steps(row, first_on, last, zero)
    out[0] += on
    out[1] += n_on
    out[2] += right - on
    out[3] += n_right - n_on
    k = 0 if (oy + i + 1) % BLOCK == 0 else 2
    out[k] += vertical
    out[k + 1] += n_vertical


@compiled
def _row_sites(dx, dy, above, below, lo, hi, axis, found):  # type: ignore[no-untyped-def]
    """Columns ``lo..hi-1`` of a row that are edge sites on ``axis``, into ``found``; count.

    X (axis 0): ``|Dx| >= 2 |Dy|``, ``0 < |Dx| < inf``, strictly above the left and at least
    the right neighbour's ``|Dx|``. Y (axis 1): the same with the axes swapped, against the
    rows above and below. Branch-free: every column is written, the count only advances on
    a site.
    """
    two, zero, inf = dx.dtype.type(2), dx.dtype.type(0), dx.dtype.type(np.inf)
    n = 0
    for j in range(lo, hi):
        a, b = (dx[j], dy[j]) if axis == 0 else (dy[j], dx[j])
        prev, nxt = (dx[j - 1], dx[j + 1]) if axis == 0 else (above[j], below[j])
        found[n] = j
        n += np.int64(
            (a >= two * b) & (a > prev) & (a >= nxt) & (a < inf) & (a > zero)
        )  # fmt: skip
    return n


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
def scan(x, own, origin, shape, find_sites, zero, one, maps, flags, sites, strengths, counts, blocking):  # type: ignore[no-untyped-def]
    """First pass: blocking sums, and every edge site of the own pixels, listed and counted.

    Parameters
    ----------
    x
        2-D region of a plane (any real dtype) with the own pixels and their halo.
    own
        ``(r0, r1, c0, c1)``: the own pixels ``x[r0:r1, c0:c1]``.
    origin, shape
        Plane coordinates of ``x[0, 0]``; plane ``(height, width)``.
    find_sites
        False for the blocking sums alone (a one-pixel halo is then enough).
    zero
        0 in the type the steps are summed in: int64 for integer pixels, float64 otherwise.
    one
        1 in the type the derivatives are computed in (float32 or float64).
    maps
        ``(2, *x.shape)`` scratch in that type for ``|Dx|`` and ``|Dy|``.
    flags
        ``(1, x.shape[1])`` int64 scratch (the site columns of a row).
    sites
        ``(capacity, 3)`` int64, capacity above the number of own pixels: row, column and
        axis (0 = X, 1 = Y) of each site found.
    strengths
        float64 ``(capacity,)``: the strength of each site.
    counts
        float64 histogram of site strengths (see ``BIN_SHIFT``), added to.
    blocking
        float64 ``[on-grid |step| sum, count, off-grid sum, count]``, added to.

    Returns
    -------
    int
        Number of sites written.
    """
    r0, r1, c0, c1 = own
    oy, ox = origin
    h, w = shape
    for i in range(r0, r1):
        _block_row(x, i, c0, c1, oy, ox, h, w, zero, blocking)
    if not find_sites:
        return 0
    jx0, jx1 = max(c0, SUPPORT - ox), min(c1, w - SUPPORT - ox)
    jy0, jy1 = max(c0, 2 - ox), min(c1, w - 1 - ox)
    lo, hi = min(jx0, jy0), max(jx1, jy1)
    i0, i1 = max(r0, 2 - oy), min(r1, h - 1 - oy)  # rows that can hold a site
    n = 0
    if hi <= lo or i1 <= i0:
        return n
    g0, g1 = lo, hi  # derivatives of the site columns and of the X sites' neighbours
    if jx1 > jx0:
        g0, g1 = min(lo, jx0 - 1), max(hi, jx1 + 1)
    dx, dy = maps[0], maps[1]
    for r in range(i0 - 1, min(i1 + 1, x.shape[0] - 1)):
        _derivatives(x, r, g0, g1, one, dx[r], dy[r])
    if i1 + 1 >= x.shape[0] - 1:  # the plane's last row: no Y site needs it
        dy[i1, :] = np.inf
    bits = strengths.view(np.int64)
    found = flags[0]
    for i in range(i0, i1):
        for axis in range(2):
            if axis == 1 and not SUPPORT <= oy + i < h - SUPPORT:
                break
            j0, j1 = (jx0, jx1) if axis == 0 else (jy0, jy1)
            strength = dx[i] if axis == 0 else dy[i]
            k = _row_sites(dx[i], dy[i], dy[i - 1], dy[i + 1], j0, j1, axis, found)
            for m in range(k):
                j = found[m]
                sites[n, 0] = i
                sites[n, 1] = j
                sites[n, 2] = axis
                strengths[n] = strength[j]
                counts[bits[n] >> BIN_SHIFT] += 1.0
                n += 1
    return n


@compiled
def measure(x, sites, strengths, n, summed_from, hist):  # type: ignore[no-untyped-def]
    """Second pass: ripple and step of the listed sites in bins from ``summed_from`` on.

    ``hist`` rows 1..4 get, per strength bin, the number of sites with a finite ripple and
    step, and the sums of ripple, squared ripple and step.
    """
    bits = strengths[:n].view(np.int64)
    for m in range(n):
        k = bits[m] >> BIN_SHIFT
        if k < summed_from:
            continue
        i, j = sites[m, 0], sites[m, 1]
        r, s = _site_x(x, i, j) if sites[m, 2] == 0 else _site_y(x, i, j)
        if np.isfinite(r) and np.isfinite(s):
            hist[1, k] += 1.0
            hist[2, k] += r
            hist[3, k] += r * r
            hist[4, k] += s
