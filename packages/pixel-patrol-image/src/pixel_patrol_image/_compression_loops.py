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
images are exact in float32 and computed so, other types in float64. Only the sites (a few
percent of the pixels) are visited one by one; on rows dense with them (noise, texture) the
sites of 8- and 16-bit images read their ripple from excess maps that each row computes once
(``_sites.excess_rows``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import types
from numba.cpython.unsafe.numbers import trailing_zeros
from numba.extending import overload

from pixel_patrol_image._jit import compiled
from pixel_patrol_image._sites import (
    FLANK_FAR,
    SMALL_INTS,
    excess_rows,
    mapped_site_x,
    mapped_site_y,
    site_x,
    site_y,
    uses_excess_maps,
)

BLOCK = 8
"""Block size of the coding grid (JPEG, MPEG-1/2, H.261/263 luma transforms)."""

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

SKIP = 64
"""Columns per span that :func:`measure` tests for a strong derivative before looking for
sites in it: most spans of a row hold none."""

COUNT_EVERY = 4
"""The strength histogram counts the sites on every fourth plane row (rows 0, 4, 8, ..): a
fixed quarter of the plane, the same in every tiling, that sets the strong-edge threshold at
a quarter of the cost."""


@compiled
def float_derivatives(x, r, c0, c1, one, dx_row, dy_row):  # type: ignore[no-untyped-def]
    """``|Dx|`` and ``|Dy|`` of row ``r`` on columns ``c0..c1-1`` (Sobel, divided by 4).

    ``Dx`` is ``s[j+1] - s[j-1]`` with ``s`` the ``[1, 2, 1] / 4`` average of rows
    ``r-1..r+1``; ``Dy`` the same with the axes swapped. In the type of ``one``.

    Every hot loop here runs over slices from index 0: with a start the compiler cannot
    prove non-negative, numba's negative-index handling keeps it from vectorising (4 to 8
    times slower).
    """
    two, quarter = one + one, one / (one + one + one + one)
    n = c1 - c0
    if n <= 0:
        return
    ul, uc, ur = x[r - 1, c0 - 1 : c1 - 1], x[r - 1, c0:c1], x[r - 1, c0 + 1 : c1 + 1]
    ml, mr = x[r, c0 - 1 : c1 - 1], x[r, c0 + 1 : c1 + 1]
    dl, dc, dr = x[r + 1, c0 - 1 : c1 - 1], x[r + 1, c0:c1], x[r + 1, c0 + 1 : c1 + 1]
    out_x, out_y = dx_row[c0:c1], dy_row[c0:c1]
    for j in range(n):
        right = ur[j] * one + two * mr[j] + dr[j]
        left = ul[j] * one + two * ml[j] + dl[j]
        below = dl[j] * one + two * dc[j] + dr[j]
        above = ul[j] * one + two * uc[j] + ur[j]
        out_x[j] = abs(right - left) * quarter
        out_y[j] = abs(below - above) * quarter


@compiled
def small_int_derivatives(x, r, c0, c1, one, dx_row, dy_row):  # type: ignore[no-untyped-def]
    """:func:`float_derivatives` for 8- and 16-bit pixels: exact int32 sums, stored as float32
    (values below 2**21, exact); about twice as fast as converting every pixel to float.
    ``one`` is unused (the maps are float32)."""
    n = c1 - c0
    if n <= 0:
        return
    ul, uc, ur = x[r - 1, c0 - 1 : c1 - 1], x[r - 1, c0:c1], x[r - 1, c0 + 1 : c1 + 1]
    ml, mr = x[r, c0 - 1 : c1 - 1], x[r, c0 + 1 : c1 + 1]
    dl, dc, dr = x[r + 1, c0 - 1 : c1 - 1], x[r + 1, c0:c1], x[r + 1, c0 + 1 : c1 + 1]
    out_x, out_y = dx_row[c0:c1], dy_row[c0:c1]
    for j in range(n):
        right = np.int32(ur[j]) + 2 * np.int32(mr[j]) + np.int32(dr[j])
        left = np.int32(ul[j]) + 2 * np.int32(ml[j]) + np.int32(dl[j])
        below = np.int32(dl[j]) + 2 * np.int32(dc[j]) + np.int32(dr[j])
        above = np.int32(ul[j]) + 2 * np.int32(uc[j]) + np.int32(ur[j])
        out_x[j] = np.float32(abs(right - left)) * np.float32(0.25)
        out_y[j] = np.float32(abs(below - above)) * np.float32(0.25)


@compiled
def int_steps(a, b, c0, c1):  # type: ignore[no-untyped-def]
    """Sum (int64) and count of ``|b[j] - a[j]|`` for ``j`` in ``c0..c1-1``."""
    a, b = a[c0:c1], b[c0:c1]
    total = np.int64(0)
    for j in range(len(a)):
        total += abs(np.int64(b[j]) - np.int64(a[j]))
    return total, len(a)


@compiled
def float_steps(a, b, c0, c1):  # type: ignore[no-untyped-def]
    """Sum and count of the finite ``|b[j] - a[j]|`` (float64) for ``j`` in ``c0..c1-1``.

    A plain sum first (SIMD); only when it is not finite, because a step is, the loop that
    leaves such steps out.
    """
    a, b = a[c0:c1], b[c0:c1]
    n = len(a)
    s0 = s1 = s2 = s3 = 0.0  # four running sums: independent chains the CPU overlaps
    for k in range(n // 4):
        j = 4 * k
        s0 += abs(np.float64(b[j]) - np.float64(a[j]))
        s1 += abs(np.float64(b[j + 1]) - np.float64(a[j + 1]))
        s2 += abs(np.float64(b[j + 2]) - np.float64(a[j + 2]))
        s3 += abs(np.float64(b[j + 3]) - np.float64(a[j + 3]))
    for j in range(n - n % 4, n):
        s0 += abs(np.float64(b[j]) - np.float64(a[j]))
    total = (s0 + s1) + (s2 + s3)
    if total < np.inf:
        return total, n
    total = 0.0
    count = 0
    for j in range(len(a)):
        step = abs(np.float64(b[j]) - np.float64(a[j]))
        if step < np.inf:
            total += step
            count += 1
    return total, count


def pixel_steps(a: Any, b: Any, c0: Any, c1: Any) -> Any:
    """:func:`int_steps` for integer pixels (exact), :func:`float_steps` otherwise; chosen by
    the compiler from the pixel type.

    The choice is made here rather than by passing a kernel to :func:`scan`: a compiled
    function that takes another one as an argument is never found in numba's on-disk cache
    (the argument's type names the kernel object of one process), so every run compiled the
    scan anew, about 3 s of CPU.
    """
    raise NotImplementedError("only callable from compiled code")


@overload(pixel_steps, jit_options={"nogil": True, "error_model": "numpy"})
def _pixel_steps(a, b, c0, c1):  # type: ignore[no-untyped-def]
    if isinstance(a.dtype, types.Float):
        return lambda a, b, c0, c1: float_steps(a, b, c0, c1)
    return lambda a, b, c0, c1: int_steps(a, b, c0, c1)


def pixel_derivatives(x: Any, r: Any, c0: Any, c1: Any, one: Any, dx_row: Any, dy_row: Any) -> Any:
    """:func:`small_int_derivatives` for 8- and 16-bit integer pixels (float32 maps),
    :func:`float_derivatives` otherwise; chosen by the compiler (see :func:`pixel_steps`)."""
    raise NotImplementedError("only callable from compiled code")


@overload(pixel_derivatives, jit_options={"nogil": True, "error_model": "numpy"})
def _pixel_derivatives(x, r, c0, c1, one, dx_row, dy_row):  # type: ignore[no-untyped-def]
    if x.dtype in SMALL_INTS:
        return lambda x, r, c0, c1, one, dx_row, dy_row: small_int_derivatives(x, r, c0, c1, one, dx_row, dy_row)
    return lambda x, r, c0, c1, one, dx_row, dy_row: float_derivatives(x, r, c0, c1, one, dx_row, dy_row)


@compiled
def _block_row(x, i, c0, c1, oy, ox, h, w, out):  # type: ignore[no-untyped-def]
    """|steps| from row ``i``'s own pixels to their right and lower neighbours.

    A step between plane columns (rows) ``c`` and ``c + 1`` is on the grid when ``c + 1`` is
    a multiple of ``BLOCK``. Steps with a non-finite end are left out.
    """
    row = x[i]
    last = max(min(c1, w - 1 - ox), c0)  # the plane's last column has no right neighbour
    right, n_right = pixel_steps(row[:-1], row[1:], c0, last)
    first_on = c0 + (BLOCK - 1 - (ox + c0) % BLOCK) % BLOCK  # ox + j + 1 = 0 mod 8
    # steps across the grid: every 8th column, as two strided views
    on, n_on = pixel_steps(row[first_on : last : BLOCK], row[first_on + 1 : last + 1 : BLOCK], 0, len(row[first_on:last:BLOCK]))
    out[0] += on
    out[1] += n_on
    out[2] += right - on
    out[3] += n_right - n_on
    if oy + i + 1 < h:
        down, n_down = pixel_steps(row, x[i + 1], c0, c1)
        k = 0 if (oy + i + 1) % BLOCK == 0 else 2
        out[k] += down
        out[k + 1] += n_down


@compiled
def _row_sites(dx, dy, above, below, x_cols, y_cols, floor, flags):  # type: ignore[no-untyped-def]
    """Mark the edge sites of a row with strength at least ``floor``: ``flags[j]`` is 1 for
    an X-axis site, 2 for a Y-axis site, 0 otherwise, for ``j`` in the union of the column
    ranges ``x_cols`` and ``y_cols`` (outside them, 0).

    X: ``|Dx| >= 2 |Dy|``, ``0 < |Dx| < inf``, strictly above the left and at least the right
    neighbour's ``|Dx|``. Y: the same with the axes swapped, against the rows above and below
    (the two exclude each other). ``floor`` is in the type of the maps, so the loop runs
    without branches or conversions as SIMD code; the few columns of the union outside one
    of the ranges are cleared afterwards. Callers then visit the few flagged columns.
    """
    two, zero, inf = dx.dtype.type(2), dx.dtype.type(0), dx.dtype.type(np.inf)
    lo, hi = min(x_cols[0], y_cols[0]), max(x_cols[1], y_cols[1])
    if hi <= lo:
        return lo, lo
    a, b, left, right = dx[lo:hi], dy[lo:hi], dx[lo - 1 : hi - 1], dx[lo + 1 : hi + 1]
    up, down, out = above[lo:hi], below[lo:hi], flags[lo:hi]
    for j in range(hi - lo):
        u, v = a[j], b[j]
        on_x = (u >= two * v) & (u > left[j]) & (u >= right[j]) & (u < inf) & (u > zero)
        on_y = (v >= two * u) & (v > up[j]) & (v >= down[j]) & (v < inf) & (v > zero)
        on_x &= u >= floor
        on_y &= v >= floor
        out[j] = np.uint8(on_x) + np.uint8(on_y) * np.uint8(2)
    for j in range(lo, min(x_cols[0], hi)):  # outside the X columns: no X site
        flags[j] &= np.uint8(2)
    for j in range(max(x_cols[1], lo), hi):
        flags[j] &= np.uint8(2)
    for j in range(lo, min(y_cols[0], hi)):
        flags[j] &= np.uint8(1)
    for j in range(max(y_cols[1], lo), hi):
        flags[j] &= np.uint8(1)
    return lo, hi


@compiled
def scan(x, own, origin, shape, find_sites, one, maps, bits, shift, found, hist, touched, blocking):  # type: ignore[no-untyped-def]
    """First pass: blocking sums, the derivative maps, and the strength histogram of the
    edge sites on the counted rows (plane rows ``0, COUNT_EVERY, 2 COUNT_EVERY, ..``).

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
    one
        1 in the type the derivatives are computed in (float32 or float64).
    maps, bits
        ``(2, *x.shape)`` scratch in that type for ``|Dx|`` and ``|Dy|``, and the same memory
        as int32 or int64.
    shift
        ``(right shift, offset)`` turning ``bits`` into the strength bin of ``BIN_SHIFT``.
    found
        uint8 scratch of ``x.shape[1]`` (site flags of a row).
    hist
        float64 ``(5, BINS)`` histograms: the site strengths are counted in row 0 (added to).
    touched
        int64 ``[first, last + 1]`` of the bins written so far (widened).
    blocking
        float64 ``[on-grid |step| sum, count, off-grid sum, count]``, added to.
    """
    r0, r1, c0, c1 = own
    oy, ox = origin
    h, w = shape
    for i in range(r0, r1):
        _block_row(x, i, c0, c1, oy, ox, h, w, blocking)
    if not find_sites:
        return
    if not derive(x, own, origin, shape, one, maps):
        return
    i0, i1, jx0, jx1, jy0, jy1, _, _ = _bounds(own, origin, shape)
    dx, dy = maps[0], maps[1]
    first = i0 + (COUNT_EVERY - (oy + i0) % COUNT_EVERY) % COUNT_EVERY
    no_y = (jy0, jy0)
    for i in range(first, i1, COUNT_EVERY):
        y_cols = (jy0, jy1) if SUPPORT <= oy + i < h - SUPPORT else no_y
        lo, hi = _row_sites(dx[i], dy[i], dy[i - 1], dy[i + 1], (jx0, jx1), y_cols, one - one, found)
        _visit_sites(x, i, found, lo, hi, bits[0, i], bits[1, i], shift, hist, touched, None)


@compiled
def derive(x, own, origin, shape, one, maps):  # type: ignore[no-untyped-def]
    """The derivative maps of the rows and columns the edge sites of the own pixels read
    (see :func:`scan` for the arguments); False when no site fits in the own pixels.

    :func:`scan` calls it; a second pass over a tile whose maps were overwritten since (see
    :func:`pixel_patrol_image._tiles.measure_region`) calls it alone before :func:`measure`.
    """
    b = _bounds(own, origin, shape)
    if b[0] >= b[1]:
        return False
    i0, i1, _, _, _, _, g0, g1 = b
    dx, dy = maps[0], maps[1]
    for r in range(i0 - 1, min(i1 + 1, x.shape[0] - 1)):
        pixel_derivatives(x, r, g0, g1, one, dx[r], dy[r])
    if i1 + 1 >= x.shape[0] - 1:  # the plane's last row: no Y site needs it
        dy[i1, :] = np.inf
    return True


@compiled
def _bounds(own, origin, shape):  # type: ignore[no-untyped-def]
    """Rows that can hold a site, the site columns on X and on Y, and the derivative
    columns; empty (first >= second) when no site fits."""
    r0, r1, c0, c1 = own
    oy, ox = origin
    h, w = shape
    i0, i1 = max(r0, 2 - oy), min(r1, h - 1 - oy)
    jx0, jx1 = max(c0, SUPPORT - ox), min(c1, w - SUPPORT - ox)
    jy0, jy1 = max(c0, 2 - ox), min(c1, w - 1 - ox)
    g0, g1 = jy0, jy1  # derivatives of the site columns and of the X sites' neighbours
    if jx1 > jx0:
        g0, g1 = min(g0, jx0 - 1), max(g1, jx1 + 1)
    if jy1 <= jy0 and jx1 <= jx0:
        i1 = i0
    return i0, i1, jx0, jx1, jy0, jy1, g0, g1


@compiled
def measure(x, own, origin, shape, maps, bits, shift, floor, screen, found, hist, touched, excess):  # type: ignore[no-untyped-def]
    """Second pass: ripple and step of every edge site with strength at least ``floor``.

    ``floor`` and ``screen`` are that strength in the type of the maps, rounded up and
    down (a map value reaches one exactly when it reaches the other): spans of a row without a
    derivative that reaches it are skipped (they hold no such site), and the sites of each
    run of consecutive spans that reach it are flagged and visited in one go. After a row
    with a site per span or more (noise), the next row is flagged whole without the test,
    and, for 8- and 16-bit pixels, its sites are measured from excess maps of the rows
    around it (``excess``: the ring of rows and their tags, see
    :func:`pixel_patrol_image._sites.excess_rows`) instead of one by one.

    Uses the derivative maps of :func:`scan`. ``hist`` rows 1..4 get, per strength bin, the
    number of sites with a finite ripple and step, and the sums of ripple, squared ripple
    and step; ``touched`` is widened to the bins written.
    """
    b = _bounds(own, origin, shape)
    if b[0] >= b[1]:
        return
    i0, i1, jx0, jx1, jy0, jy1, _, _ = b
    oy = origin[0]
    h = shape[0]
    dx, dy = maps[0], maps[1]
    ring, tags, sites = excess
    tags[:] = -1  # rows of another region
    dense = False  # the last row had a site per span or more: flag the next one whole
    for i in range(i0, i1):
        yc0, yc1 = (jy0, jy1) if SUPPORT <= oy + i < h - SUPPORT else (jy0, jy0)
        lo, hi = min(jx0, yc0), max(jx1, yc1)
        mapped = dense and uses_excess_maps(x)
        if mapped:
            excess_rows(x, i, yc1 > yc0, ring, tags)
        how = (mapped, ring, sites)
        b0 = lo if dense else _reaching(dx[i], dy[i], lo, hi, screen, True)
        n = 0
        while b0 < hi:  # the strong sites are few: skip the spans without any
            b1 = hi if dense else _reaching(dx[i], dy[i], b0, hi, screen, False)
            x_cols = (max(jx0, b0), min(jx1, b1))
            y_cols = (max(yc0, b0), min(yc1, b1))
            a, e = _row_sites(dx[i], dy[i], dy[i - 1], dy[i + 1], x_cols, y_cols, floor, found)
            n += _visit_sites(x, i, found, a, e, bits[0, i], bits[1, i], shift, hist, touched, how)
            b0 = hi if dense else _reaching(dx[i], dy[i], b1, hi, screen, True)
        dense = n * SKIP >= hi - lo


@compiled
def _reaching(dx, dy, b0, hi, screen, wanted):  # type: ignore[no-untyped-def]
    """Start of the first span of ``SKIP`` columns from ``b0`` on (before ``hi``) that has a
    derivative reaching ``screen`` (``wanted``) or has none (not ``wanted``); ``hi`` if no
    span is such."""
    while b0 < hi:
        b1 = min(b0 + SKIP, hi)
        if _reaches(dx[b0:b1], dy[b0:b1], screen) == wanted:
            return b0
        b0 = b1
    return hi


@compiled
def _visit_sites(x, i, found, lo, hi, bx, by, shift, hist, touched, how):  # type: ignore[no-untyped-def]
    """Visit the flagged sites of row ``i``, columns ``lo..hi-1``, left to right (a fixed
    order of the float sums): count them in ``hist[0]`` (``how`` None) or add their ripple
    and step to ``hist[1:5]`` (see :func:`measure`; ``how`` is ``(mapped, ring, sites)``:
    whether to measure from the excess rows of ``_sites.excess_rows``, and the scratch of
    :func:`_visit_mapped`); the number of sites.

    A site is found by the position of the lowest set bit of a word of eight flags (its
    byte is its column on a little-endian machine, and a flag, 1 or 2, is one bit), so the
    walk takes one step per site instead of one test per column: with sites at random
    columns, as in noise, a test per column mispredicts about once per site. The range of
    bins written is kept in locals (no store-to-load chain per site). Counting and measuring
    share one compiled function, one compile per pixel type.
    """
    if how is not None and how[0]:
        return _visit_mapped(x, i, found, lo, hi, bx, by, shift, hist, touched, how[1], how[2])
    words = found.view(np.uint64)
    ones = np.uint64(0xFFFFFFFFFFFFFFFF)
    first, last = touched[0], touched[1]
    n = 0
    for w in range(lo // 8, (hi + 7) // 8):
        word = words[w]
        if lo > 8 * w:
            word &= ones << np.uint64(8 * (lo - 8 * w))
        if hi < 8 * w + 8:
            word &= ones >> np.uint64(8 * (8 * w + 8 - hi))
        while word != 0:
            j = 8 * w + (np.int64(trailing_zeros(word)) >> 3)  # type: ignore[call-arg]
            word &= word - np.uint64(1)
            on_x = found[j] == 1
            n += 1
            q = ((bx[j] if on_x else by[j]) >> shift[0]) + shift[1]
            if how is None:
                hist[0, q] += 1.0
            else:
                r, s = site_x(x, i, j) if on_x else site_y(x, i, j)
                if not _add_site(hist, q, r, s):
                    continue
            first = min(first, q)
            last = max(last, q + 1)
    touched[0], touched[1] = first, last
    return n


@compiled
def _add_site(hist, q, r, s):  # type: ignore[no-untyped-def]
    """Add a measured site of strength bin ``q`` to ``hist[1:5]``; False (nothing added) when
    its ripple or step is not finite."""
    if not (np.isfinite(r) and np.isfinite(s)):
        return False
    hist[1, q] += 1.0
    hist[2, q] += r
    hist[3, q] += r * r
    hist[4, q] += s
    return True


@compiled
def _visit_mapped(x, i, found, lo, hi, bx, by, shift, hist, touched, ring, sites):  # type: ignore[no-untyped-def]
    """:func:`_visit_sites` measuring the sites of a row dense with them from the excess
    rows in ``ring`` (8- and 16-bit pixels): the flagged columns are first gathered into
    the two lists of ``sites`` (X sites, Y sites) without a branch, then each list is
    measured in a loop of known length, so neither finding a site nor its orientation costs
    a mispredicted branch. The X sites of the columns are added before the Y sites: every
    value added is a multiple of 1/16 from integer sums, so the sums are exact in any order
    (up to 2**49, far beyond any plane's)."""
    xs, ys = sites[0], sites[1]
    nx = ny = 0
    for j in range(lo, hi):
        f = found[j]
        xs[nx] = j
        ys[ny] = j
        nx += f & 1
        ny += f >> 1
    first, last = touched[0], touched[1]
    for axis in range(2):
        columns, strengths = (xs[:nx], bx) if axis == 0 else (ys[:ny], by)
        for j in columns:
            q = (strengths[j] >> shift[0]) + shift[1]
            r, s = mapped_site_x(x, i, j, ring) if axis == 0 else mapped_site_y(x, i, j, ring)
            if _add_site(hist, q, r, s):
                first, last = min(first, q), max(last, q + 1)
    touched[0], touched[1] = first, last
    return nx + ny


@compiled
def _reaches(dx, dy, screen):  # type: ignore[no-untyped-def]
    """Whether some ``|Dx|`` or ``|Dy|`` of a span is at least ``screen`` (in the maps' type,
    so the compares run as SIMD code; a count vectorises where a flag does not)."""
    n = np.int32(0)
    for j in range(len(dx)):
        n += np.int32(dx[j] >= screen) + np.int32(dy[j] >= screen)
    return n > 0
