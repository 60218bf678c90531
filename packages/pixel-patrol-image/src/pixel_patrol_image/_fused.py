"""Compiled per-plane sums behind ``mscn_variance``, ``texture_heterogeneity`` and ``laplacian_variance``.

Why compiled: in numpy, the two BRISQUE Gaussian filters (``G*x`` and ``G*x²``, separable,
7 taps), the local standard deviation, the MSCN coefficients and the Laplacian stencil take
about fifty whole-plane passes, each a separate trip through memory, and cost several times
the plain statistics of ``raster-basic``. Here one loop per plane does all of it: X-filtered
rows go into a ring of eight rows, and every output row then takes its Y pass, local
moments, MSCN coefficient and Laplacian and adds them to per-column sums (float32 over a
strip of ``STRIP`` rows, then float64).

Arithmetic: the filters, local moments and coefficients are float32 on the centred and
scaled planes of :func:`pixel_patrol_image._robust.prepare` (the float32 rounding rules are
those of ``docs/metrics.md``); Laplacians are float32 (exact for 8/16-bit data); sums are
float32 within a strip and float64 beyond. A plane's sums depend on that plane alone, in a
fixed order, so results do not depend on batching; the loops contain no reductions that the
compiler could reorder.

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
    src: np.ndarray, row: np.ndarray, out: np.ndarray, out_sq: np.ndarray, w: int, square: bool
) -> None:
    """7-tap X pass of one row (and, with ``square``, of its square), zero outside the row.

    ``row`` is a scratch of ``w + 6`` elements whose three first and last are zero.
    """
    for j in range(w):
        row[j + 3] = src[j]
    for j in range(w):
        out[j] = (
            K3 * (row[j] + row[j + 6])
            + K2 * (row[j + 1] + row[j + 5])
            + K1 * (row[j + 2] + row[j + 4])
            + K0 * row[j + 3]
        )
    if square:
        for j in range(w):
            out_sq[j] = (
                K3 * (row[j] * row[j] + row[j + 6] * row[j + 6])
                + K2 * (row[j + 1] * row[j + 1] + row[j + 5] * row[j + 5])
                + K1 * (row[j + 2] * row[j + 2] + row[j + 4] * row[j + 4])
                + K0 * (row[j + 3] * row[j + 3])
            )


@compiled
def _y_pass(ring: np.ndarray, i: int, out: np.ndarray, w: int) -> None:
    """Y pass for output row ``i`` from the ring of X-filtered rows (row ``r`` in slot ``(r + 3) % 8``)."""
    h0, h1, h2, h3 = ring[i & 7], ring[(i + 1) & 7], ring[(i + 2) & 7], ring[(i + 3) & 7]
    h4, h5, h6 = ring[(i + 4) & 7], ring[(i + 5) & 7], ring[(i + 6) & 7]
    for j in range(w):
        out[j] = K3 * (h0[j] + h6[j]) + K2 * (h1[j] + h5[j]) + K1 * (h2[j] + h4[j]) + K0 * h3[j]


@compiled
def _fill_ring(
    xp: np.ndarray,
    mp: np.ndarray,
    masked: bool,
    r: int,
    h: int,
    w: int,
    row: np.ndarray,
    rx: np.ndarray,
    rx2: np.ndarray,
    rm: np.ndarray,
) -> None:
    """X-filter row ``r`` of the plane into its ring slot; rows outside the plane are zero."""
    slot = (r + 3) & 7
    if 0 <= r < h:
        _x_pass(xp[r], row, rx[slot], rx2[slot], w, True)
        if masked:
            _x_pass(mp[r], row, rm[slot], rm[slot], w, False)
    else:
        rx[slot, :] = 0.0
        rx2[slot, :] = 0.0
        rm[slot, :] = 0.0


@compiled
def quality_sums(
    x: np.ndarray,
    m: np.ndarray,
    masked: bool,
    height: int,
    width: int,
    stabiliser: np.ndarray,
    flat: np.ndarray,
    residue: np.float32,
    weight_floor: np.float32,
    out: np.ndarray,
) -> None:
    """The :data:`SUMS` of every plane of a batch, into ``out`` (``(b, 7)`` float64).

    Parameters
    ----------
    x
        ``(b, >= height, >= width)`` float32 planes, 0 at non-finite pixels.
    m
        Finite mask of the same shape (1.0 / 0.0), read only when ``masked``.
    masked
        Whether the planes have non-finite pixels.
    height, width
        Plane size (``x`` may carry padding beyond it).
    stabiliser
        Per plane, the MSCN constant ``C`` in the units of ``x``.
    flat
        Per plane, the local variance given to flat windows.
    residue
        Relative size under which ``G*x² - mu²`` counts as float32 rounding residue.
    weight_floor
        Least window weight divided by (keeps non-finite pixels' values bounded).
    out
        Result, one row of :data:`SUMS` per plane.

    The X-filtered rows live in rings of eight rows (row ``r`` in slot ``(r + 3) % 8``), so
    every map a row needs stays in the core's cache.
    """
    h, w = height, width
    inv_x = _inverse_window_sums(w)
    inv_y = _inverse_window_sums(h)
    rx = np.zeros((8, w), dtype=np.float32)
    rx2 = np.zeros((8, w), dtype=np.float32)
    rm = np.zeros((8, w), dtype=np.float32)
    row = np.zeros(w + 6, dtype=np.float32)
    mu = np.zeros(w, dtype=np.float32)
    m2 = np.zeros(w, dtype=np.float32)
    inv = np.zeros(w, dtype=np.float32)
    acc = np.zeros((7, w), dtype=np.float32)
    total = np.zeros((7, w), dtype=np.float64)
    for p in range(x.shape[0]):
        xp, mp = x[p], m[p]
        for r in range(-3, 3):
            _fill_ring(xp, mp, masked, r, h, w, row, rx, rx2, rm)
        total[:] = 0.0
        for i in range(h):
            _fill_ring(xp, mp, masked, i + 3, h, w, row, rx, rx2, rm)
            _y_pass(rx, i, mu, w)
            _y_pass(rx2, i, m2, w)
            if masked:
                _y_pass(rm, i, inv, w)
                for j in range(w):
                    inv[j] = np.float32(1.0) / max(inv[j], weight_floor)
            else:
                for j in range(w):
                    inv[j] = inv_y[i] * inv_x[j]
            _mscn_row(xp[i], mp[i], masked, mu, m2, inv, w, stabiliser[p], flat[p], residue, acc)
            if 0 < i < h - 1:
                _laplacian_row(xp, mp, masked, i, w, acc)
            if i % STRIP == STRIP - 1 or i == h - 1:
                _flush(acc, total, w)
        for q in range(7):
            s = 0.0
            for j in range(w):
                s += total[q, j]
            out[p, q] = s


@compiled
def _flush(acc: np.ndarray, total: np.ndarray, w: int) -> None:
    """Add the float32 strip sums to the float64 plane sums and clear them."""
    for q in range(7):
        a, t = acc[q], total[q]
        for j in range(w):
            t[j] += a[j]
            a[j] = 0.0


@compiled
def _mscn_row(
    xi: np.ndarray,
    mi: np.ndarray,
    masked: bool,
    mu: np.ndarray,
    m2: np.ndarray,
    inv: np.ndarray,
    w: int,
    c: np.float32,
    flat: np.float32,
    residue: np.float32,
    acc: np.ndarray,
) -> None:
    """Sigma and MSCN coefficient along one row, added to ``acc[0:4]``.

    ``mu`` and ``m2`` hold the window sums of ``x`` and ``x²`` along the row, ``inv`` the
    inverse window weights.
    """
    a0, a1, a2, a3 = acc[0], acc[1], acc[2], acc[3]
    for j in range(w):
        mean = mu[j] * inv[j]
        moment2 = m2[j] * inv[j]
        var = moment2 - mean * mean
        var = flat if var < residue * moment2 else var
        sigma = np.sqrt(var)
        coeff = (xi[j] - mean) / (sigma + c)
        if masked:
            coeff *= mi[j]
            sigma *= mi[j]
        a0[j] += coeff
        a1[j] += coeff * coeff
        a2[j] += sigma
        a3[j] += sigma * sigma


@compiled
def _laplacian_row(
    xp: np.ndarray, mp: np.ndarray, masked: bool, i: int, w: int, acc: np.ndarray
) -> None:
    """4-neighbour Laplacian on the interior of row ``i``, added to ``acc[4:7]``."""
    up, mid, down = xp[i - 1], xp[i], xp[i + 1]
    a4, a5, a6 = acc[4], acc[5], acc[6]
    if masked:
        m_up, m_mid, m_down = mp[i - 1], mp[i], mp[i + 1]
    for j in range(1, w - 1):
        lap = up[j] + down[j] + mid[j - 1] + mid[j + 1] - np.float32(4.0) * mid[j]
        if masked:
            ok = m_up[j] * m_down[j] * m_mid[j - 1] * m_mid[j + 1] * m_mid[j]
            lap *= ok
            a6[j] += ok
        a4[j] += lap
        a5[j] += lap * lap
    if not masked:
        for j in range(1, w - 1):
            a6[j] += 1.0
