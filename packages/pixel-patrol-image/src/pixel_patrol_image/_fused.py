"""Compiled per-tile sums behind ``mscn_variance``, ``texture_heterogeneity`` and ``laplacian_variance``.

Why compiled: in numpy, the two BRISQUE Gaussian filters (``G*x`` and ``G*x²``, separable,
7 taps), the local standard deviation, the MSCN coefficients and the Laplacian stencil take
about fifty whole-plane passes, each a separate trip through memory, and cost several times
the plain statistics of ``raster-basic``. Here one loop per plane does all of it: X-filtered
rows go into a ring of eight rows, and every output row then takes its Y pass, local
moments, MSCN coefficient and Laplacian and adds them to per-column sums.

Tiles: the planes handed over may be tiles of a larger plane with a halo (see
:mod:`pixel_patrol_image._tiled`). Filters read the whole array, whose edges are either the
plane border or at least the filter radius away from the own pixels; sums run over the own
box only. A whole plane is the tile that owns all its pixels.

Arithmetic: the filters, local moments and coefficients are float32 on the working values of
:func:`pixel_patrol_image._stats.centre` (the rounding rules are those of
``docs/metrics.md``); Laplacians are float32 (exact for 8/16-bit data). Sums of the MSCN
coefficients and Laplacians are float32 within a strip of ``STRIP`` rows and float64 beyond;
sums of local standard deviations are float64 per pixel, because their variance is a small
difference of large sums (texture heterogeneity). A plane's sums depend on that plane alone,
in a fixed order, so results do not depend on batching; loops run from index 0 over
views, which lets the compiler vectorise them.

Every function here is compiled on first use and cached on disk by numba.
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_image._jit import compiled

SUMS = ("mscn", "mscn_sq", "sigma", "sigma_sq", "lap", "lap_sq", "lap_count")
"""Per-plane sums written by :func:`quality_sums`, in this order."""

STRIP = 16
"""Rows summed per column in float32 before the column sums go into float64: float64
accumulation of every pixel costs as much as the filters, while sixteen float32 terms keep
the relative rounding of a sum near 1e-7."""


def _brisque_taps() -> tuple[np.float32, np.float32, np.float32, np.float32]:
    """Centre-out weights of the 7x7 BRISQUE window: sampled Gaussian, sigma 7/6, sum 1."""
    t = np.arange(-3, 4, dtype=np.float64)
    k = np.exp(-0.5 * (t / (7.0 / 6.0)) ** 2)
    k /= k.sum()
    return np.float32(k[3]), np.float32(k[4]), np.float32(k[5]), np.float32(k[6])


K0, K1, K2, K3 = _brisque_taps()
KERNEL = np.array([K3, K2, K1, K0, K1, K2, K3], dtype=np.float32)
"""The window as used: BRISQUE's 7-tap Gaussian (Mittal et al. 2012), float32."""


@compiled
def _inverse_window_sums(n: int) -> np.ndarray:
    """``1 / (sum of the window taps inside 0 .. n - 1)`` per index: the truncated window.

    Near a border the window loses its outside taps and the rest are renormalised, so no
    pixel value is invented; in the interior the sum is 1 (up to float32 rounding).
    """
    out = np.zeros(n, dtype=np.float32)
    for i in range(n):
        s = np.float32(0.0)
        for t in range(7):
            if 0 <= i + t - 3 < n:
                s += KERNEL[t]
        out[i] = np.float32(1.0) / s
    return out


@compiled
def _x_pass(
    row: np.ndarray,
    out: np.ndarray,
    out_sq: np.ndarray,
    c0: int,
    c1: int,
    square: bool,
) -> None:
    """7-tap X pass of one row (and, with ``square``, of its square) for columns c0 .. c1.

    ``row`` holds the row with three zeros before and after it (zero outside the row). Both
    passes share one loop over the taps, and the squares are formed per tap: a multiply is
    cheaper than another trip through a row of squares (stored, then read seven times).
    """
    r = row[c0 : c1 + 6]
    o = out[c0:c1]
    if not square:
        for j in range(c1 - c0):
            o[j] = K3 * (r[j] + r[j + 6]) + K2 * (r[j + 1] + r[j + 5]) + K1 * (r[j + 2] + r[j + 4])
            o[j] += K0 * r[j + 3]
        return
    q = out_sq[c0:c1]
    for j in range(c1 - c0):
        a0, a1, a2, a3, a4, a5, a6 = r[j], r[j + 1], r[j + 2], r[j + 3], r[j + 4], r[j + 5], r[j + 6]
        o[j] = K3 * (a0 + a6) + K2 * (a1 + a5) + K1 * (a2 + a4) + K0 * a3
        q[j] = (
            K3 * (a0 * a0 + a6 * a6) + K2 * (a1 * a1 + a5 * a5) + K1 * (a2 * a2 + a4 * a4)
            + K0 * (a3 * a3)
        )


@compiled
def _y_pass(ring: np.ndarray, i: int, out: np.ndarray, c0: int, c1: int) -> None:
    """Y pass for output row ``i`` from the ring of X-filtered rows (row ``r`` in slot ``(r + 3) % 8``)."""
    h0, h1, h2 = ring[i & 7, c0:c1], ring[(i + 1) & 7, c0:c1], ring[(i + 2) & 7, c0:c1]
    h3, h4 = ring[(i + 3) & 7, c0:c1], ring[(i + 4) & 7, c0:c1]
    h5, h6 = ring[(i + 5) & 7, c0:c1], ring[(i + 6) & 7, c0:c1]
    o = out[c0:c1]
    for j in range(c1 - c0):
        o[j] = K3 * (h0[j] + h6[j]) + K2 * (h1[j] + h5[j]) + K1 * (h2[j] + h4[j]) + K0 * h3[j]


@compiled
def _load(
    src: np.ndarray,
    masked: bool,
    off: np.float32,
    unit: np.float32,
    out: np.ndarray,
    mask: np.ndarray,
) -> None:
    """Working values ``(x - off) * unit`` of one row in float32 (0 where not finite), into
    ``out`` and the finite mask into ``mask``, three elements in (padded rows)."""
    o = out[3 : 3 + src.shape[0]]
    for j in range(src.shape[0]):
        o[j] = (np.float32(src[j]) - off) * unit
    if masked:
        mk = mask[3 : 3 + src.shape[0]]
        for j in range(src.shape[0]):
            ok = np.isfinite(o[j])
            mk[j] = np.float32(1.0) if ok else np.float32(0.0)
            o[j] = o[j] if ok else np.float32(0.0)


@compiled
def _fill_ring(
    raw: np.ndarray,
    masked: bool,
    off: np.float32,
    unit: np.float32,
    r: int,
    h: int,
    w: int,
    c0: int,
    c1: int,
    cx: np.ndarray,
    cm: np.ndarray,
    rx: np.ndarray,
    rx2: np.ndarray,
    rm: np.ndarray,
) -> None:
    """Load row ``r`` of the plane and X-filter it into its ring slots; rows outside the
    plane are zero. ``cx`` and ``cm`` rows carry three zeros on each side."""
    slot = (r + 3) & 7
    if 0 <= r < h:
        _load(raw[r], masked, off, unit, cx[slot], cm[slot])
        _x_pass(cx[slot], rx[slot], rx2[slot], c0, c1, True)
        if masked:
            _x_pass(cm[slot], rm[slot], rm[slot], c0, c1, False)
    else:
        rx[slot, :] = 0.0
        rx2[slot, :] = 0.0
        rm[slot, :] = 0.0


@compiled
def quality_sums(
    raw: np.ndarray,
    masked: bool,
    own: np.ndarray,
    off: np.ndarray,
    unit: np.ndarray,
    stabiliser: np.ndarray,
    flat: np.ndarray,
    residue: np.float32,
    weight_floor: np.float32,
    out: np.ndarray,
) -> None:
    """The :data:`SUMS` over the own box of every plane of a batch, into ``out`` (``(b, 7)``).

    Parameters
    ----------
    raw
        ``(b, h, w)`` pixels: 8/16-bit integers or float32, whose working values are
        ``(x - off) * unit`` in float32 (other types come centred as float32, ``off`` 0 and
        ``unit`` 1). Rows are converted as the loop reaches them, so no plane-sized copy is
        made.
    masked
        Whether the planes have non-finite pixels.
    own
        ``(y0, y1, x0, x1)``: the pixels to sum over (every other pixel is halo).
    off, unit
        Per plane, float32 offset and power-of-two unit.
    stabiliser
        Per plane, the MSCN constant ``C`` in working units.
    flat
        Per plane, the local variance given to flat windows.
    residue
        Relative size under which ``G*x² - mu²`` counts as float32 rounding residue.
    weight_floor
        Least window weight divided by (keeps non-finite pixels' values bounded).
    out
        Result, one row of :data:`SUMS` per plane.

    The converted rows and the X-filtered rows live in rings of eight rows (row ``r`` in
    slot ``(r + 3) % 8``), so every map a row needs stays in the core's cache.
    """
    h, w = raw.shape[1], raw.shape[2]
    r0, r1, c0, c1 = own[0], own[1], own[2], own[3]
    inv_x = _inverse_window_sums(w)
    inv_y = _inverse_window_sums(h)
    cx = np.zeros((8, w + 6), dtype=np.float32)
    cm = np.zeros((8, w + 6), dtype=np.float32)
    rx = np.zeros((8, w), dtype=np.float32)
    rx2 = np.zeros((8, w), dtype=np.float32)
    rm = np.zeros((8, w), dtype=np.float32)
    mu = np.zeros(w, dtype=np.float32)
    m2 = np.zeros(w, dtype=np.float32)
    inv = np.zeros(w, dtype=np.float32)
    acc = np.zeros((7, w), dtype=np.float32)
    ref = np.zeros(w, dtype=np.float32)
    wide = np.zeros((2, w), dtype=np.float64)
    total = np.zeros((5, w), dtype=np.float64)
    for p in range(raw.shape[0]):
        rp, o, u = raw[p], off[p], unit[p]
        for r in range(r0 - 4, r0 + 3):
            _fill_ring(rp, masked, o, u, r, h, w, c0, c1, cx, cm, rx, rx2, rm)
        total[:] = 0.0
        wide[:] = 0.0
        for i in range(r0, r1):
            _fill_ring(rp, masked, o, u, i + 3, h, w, c0, c1, cx, cm, rx, rx2, rm)
            _y_pass(rx, i, mu, c0, c1)
            _y_pass(rx2, i, m2, c0, c1)
            if masked:
                _weights(rm, i, inv, weight_floor, c0, c1)
            slot = (i + 3) & 7
            strip = (i - r0) % STRIP
            _mscn_row(
                cx[slot], cm[slot], masked, mu, m2, inv, inv_x, inv_y[i], c0, c1,
                stabiliser[p], flat[p], residue, acc, wide, ref, strip == 0,
            )
            if 0 < i < h - 1:
                _laplacian_row(cx, cm, masked, i, w, c0, c1, acc)
            if strip == STRIP - 1 or i == r1 - 1:
                _flush(acc, total, wide, ref, strip + 1, masked, c0, c1)
        _totals(total, wide, c0, c1, out[p])


@compiled
def _weights(
    rm: np.ndarray, i: int, inv: np.ndarray, weight_floor: np.float32, c0: int, c1: int
) -> None:
    """Inverse window weights of row ``i`` of a masked plane: its filtered finite mask."""
    _y_pass(rm, i, inv, c0, c1)
    v = inv[c0:c1]
    for j in range(c1 - c0):
        v[j] = np.float32(1.0) / max(v[j], weight_floor)


@compiled
def _totals(total: np.ndarray, wide: np.ndarray, c0: int, c1: int, out: np.ndarray) -> None:
    """Per-plane sums from the per-column float64 sums, in :data:`SUMS` order."""
    out[0] = _row_sum(total[0, c0:c1])
    out[1] = _row_sum(total[1, c0:c1])
    out[2] = _row_sum(wide[0, c0:c1])
    out[3] = _row_sum(wide[1, c0:c1])
    out[4] = _row_sum(total[2, c0:c1])
    out[5] = _row_sum(total[3, c0:c1])
    out[6] = _row_sum(total[4, c0:c1])


@compiled
def _row_sum(v: np.ndarray) -> float:
    """Sum of a float64 row, left to right (a fixed order)."""
    s = 0.0
    for j in range(v.shape[0]):
        s += v[j]
    return s


@compiled
def _flush(
    acc: np.ndarray,
    total: np.ndarray,
    wide: np.ndarray,
    ref: np.ndarray,
    rows: int,
    masked: bool,
    c0: int,
    c1: int,
) -> None:
    """Add the float32 strip sums to the float64 plane sums and clear them.

    The local standard deviations of an unmasked strip were summed as differences from the
    strip's first row (``ref``); here they are counted from 0 again, in float64.
    """
    for q in range(5):
        a, t = acc[q, c0:c1], total[q, c0:c1]
        for j in range(c1 - c0):
            t[j] += a[j]
            a[j] = 0.0
    if masked:
        return
    d, d2 = acc[5, c0:c1], acc[6, c0:c1]
    s0, s1, r = wide[0, c0:c1], wide[1, c0:c1], ref[c0:c1]
    for j in range(c1 - c0):
        base = np.float64(r[j])
        s0[j] += d[j] + rows * base
        s1[j] += d2[j] + 2.0 * base * d[j] + rows * base * base
        d[j] = 0.0
        d2[j] = 0.0


@compiled
def _mscn_row(
    xi: np.ndarray,
    mi: np.ndarray,
    masked: bool,
    mu: np.ndarray,
    m2: np.ndarray,
    inv: np.ndarray,
    inv_x: np.ndarray,
    inv_y: np.float32,
    c0: int,
    c1: int,
    c: np.float32,
    flat: np.float32,
    residue: np.float32,
    acc: np.ndarray,
    wide: np.ndarray,
    ref: np.ndarray,
    first: bool,
) -> None:
    """Sigma and MSCN coefficient along one row: coefficients into ``acc[0:2]`` (float32),
    sigma into ``acc[5:7]`` as differences from the strip's first row (``first``: this row
    sets them), or straight into ``wide`` (float64) for masked planes.

    ``mu`` and ``m2`` hold the window sums of ``x`` and ``x²`` along the row; the inverse
    window weights are ``inv`` for masked planes and ``inv_y * inv_x`` (the truncated window)
    otherwise. Differences keep float32 sums of sigma accurate: their variance is a small
    difference of large sums (texture heterogeneity).
    """
    a0, a1 = acc[0, c0:c1], acc[1, c0:c1]
    d0, d1, rf = acc[5, c0:c1], acc[6, c0:c1], ref[c0:c1]
    s0, s1 = wide[0, c0:c1], wide[1, c0:c1]
    x, mk = xi[c0 + 3 : c1 + 3], mi[c0 + 3 : c1 + 3]  # padded rows
    u, v, wt, wx = mu[c0:c1], m2[c0:c1], inv[c0:c1], inv_x[c0:c1]
    for j in range(c1 - c0):
        weight = wt[j] if masked else inv_y * wx[j]
        mean = u[j] * weight
        moment2 = v[j] * weight
        var = moment2 - mean * mean
        var = flat if var < residue * moment2 else var
        sigma = np.sqrt(var)
        coeff = (x[j] - mean) / (sigma + c)
        if masked:
            coeff *= mk[j]
            sigma *= mk[j]
            s0[j] += sigma
            s1[j] += sigma * sigma
        else:
            if first:
                rf[j] = sigma
            delta = sigma - rf[j]
            d0[j] += delta
            d1[j] += delta * delta
        a0[j] += coeff
        a1[j] += coeff * coeff


@compiled
def _laplacian_row(
    cx: np.ndarray, cm: np.ndarray, masked: bool, i: int, w: int, c0: int, c1: int, acc: np.ndarray
) -> None:
    """4-neighbour Laplacian on the own interior of row ``i`` (padded rows in the ring),
    added to ``acc[2:5]``."""
    lo, hi = max(c0, 1), min(c1, w - 1)
    if hi <= lo:
        return
    up, down = cx[(i + 2) & 7, lo + 3 : hi + 3], cx[(i + 4) & 7, lo + 3 : hi + 3]
    mid = cx[(i + 3) & 7, lo + 2 : hi + 4]
    a2, a3 = acc[2, lo:hi], acc[3, lo:hi]
    if masked:
        a4 = acc[4, lo:hi]
        m_up, m_down = cm[(i + 2) & 7, lo + 3 : hi + 3], cm[(i + 4) & 7, lo + 3 : hi + 3]
        m_mid = cm[(i + 3) & 7, lo + 2 : hi + 4]
        for j in range(hi - lo):
            lap = up[j] + down[j] + mid[j] + mid[j + 2] - np.float32(4.0) * mid[j + 1]
            ok = m_up[j] * m_down[j] * m_mid[j] * m_mid[j + 2] * m_mid[j + 1]
            lap *= ok
            a2[j] += lap
            a3[j] += lap * lap
            a4[j] += ok
    else:  # every stencil counts: the caller knows how many there are
        for j in range(hi - lo):
            lap = up[j] + down[j] + mid[j] + mid[j + 2] - np.float32(4.0) * mid[j + 1]
            a2[j] += lap
            a3[j] += lap * lap
