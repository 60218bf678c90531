"""``ringing_index``: oscillation beside strong edges relative to oscillation far from them.

Ringing (the Gibbs phenomenon of compression, deconvolution or band limiting) shows as ripples
in the otherwise flat region next to a strong edge. The index finds strong edges and their
transition ramps, measures crests and troughs in a band just outside the ramps and divides by
the same measure far from any edge, so noise (present in both) cancels. See
``docs/metrics.md`` for sources and caveats.
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_image._filters import dilate, gaussian_kernel, local_means
from pixel_patrol_image._layout import PAD as PAD_ROWS
from pixel_patrol_image._layout import Layout
from pixel_patrol_image._robust import FloatPlanes
from pixel_patrol_image._sums import plane_dots
from pixel_patrol_image._workspace import Workspace

EDGE_SMOOTHING = gaussian_kernel(1.0, 3)
"""Gaussian (sigma 1 px) applied before the gradient so that noise does not count as edges."""

EDGE_FLOOR = 0.1
"""Least smoothed gradient (in dynamic ranges per pixel) of a strong edge: a step of roughly a
quarter of the dynamic range or more."""

EDGE_NOISE_FACTOR = 4.0
"""A strong edge must also exceed this multiple of the plane's median gradient (noise level)."""

MEDIAN_SAMPLES = 16384
"""Pixels sampled (on a regular grid) for the median gradient of a plane."""

TRANSITION_FRACTION = 0.125
"""Pixels near a strong edge with at least this fraction of its threshold gradient belong to the
edge's transition (its blurred ramp, where a bright object's own noise would also sit), not to
the band where ringing is measured."""

RING_RADIUS = 4
"""The ringing band: pixels 1..4 px (chessboard distance) outside an edge transition."""

FAR_RADIUS = 8
"""The reference region: pixels more than 8 px from any edge transition (one coding block)."""

RINGING_EPS = (1.0 / 255.0) ** 2
"""Energy floor in squared dynamic ranges: one grey level of an 8-bit rendering of the plane
(the same visibility scale as BRISQUE's C). Oscillation far below it is invisible; it keeps
nearly noise-free planes from turning tiny differences into huge ratios."""

F32 = np.float32


def ringing_index(fp: FloatPlanes, ws: Workspace) -> np.ndarray:
    """Oscillation energy next to strong edges over the oscillation energy far from them.

    Oscillation is the local-extremum excess of :func:`oscillation_energy` (zero on any
    monotone run, however blurred); the result is ``(E_band + eps) / (E_far + eps)`` with the
    band 1..4 px outside the edge transitions and the far region more than 8 px from them,
    energies in squared dynamic ranges. Null when the plane has no strong edge, no usable
    pixel in the band or far from the edges, is smaller than 3x3, or is constant.
    """
    layout = fp.layout
    if layout.height < 3 or layout.width < 3:
        return np.full(layout.planes, np.nan)
    transition = edge_transitions(fp, ws)
    usable = _interior_with_finite_neighbours(fp, ws)
    near = dilate(transition, RING_RADIUS)
    band = near & ~transition & usable
    far = ~dilate(near, FAR_RADIUS - RING_RADIUS) & usable  # squares add: 4 + 4 = 8
    energy = oscillation_energy(fp, ws)
    n_band, n_far = band.sum(axis=(1, 2)), far.sum(axis=(1, 2))
    d2 = np.square(fp.scaled_range)
    e_band = plane_dots(energy, band.astype(F32)) / d2
    e_far = plane_dots(energy, far.astype(F32)) / d2
    ratio = (e_band / n_band + RINGING_EPS) / (e_far / n_far + RINGING_EPS)
    return np.where(fp.stats.valid & (n_band > 0) & (n_far > 0), ratio, np.nan)


def oscillation_energy(fp: FloatPlanes, ws: Workspace) -> np.ndarray:
    """Squared local-extremum excess along X plus along Y per pixel (``(b, H, W)`` view).

    Along one axis, with neighbours ``l`` and ``r``, the excess is
    ``max(x - max(l, r), min(l, r) - x, 0)`` (the same as ``max(min(d1, d2), -max(d1, d2),
    0)`` with ``d1 = x - l``, ``d2 = x - r``): how far a pixel stands above both neighbours
    (a crest) or below both (a trough). It is exactly zero on any monotone profile, so a
    blurred edge contributes nothing however soft it is, while every ripple of ringing
    contributes its amplitude. In the units of ``fp.buf``; outermost pixels hold junk (they
    are never used).
    """
    layout = fp.layout
    lo, hi = layout.lead, layout.size - layout.stride
    x = fp.buf[lo:hi]
    energy = ws.get("oscillation", fp.buf.shape, F32)
    zeros = ws.zeros("zeros", x.shape, F32)
    high = ws.get("osc_high", x.shape, F32)
    low = ws.get("osc_low", x.shape, F32)
    for axis, step in enumerate((1, layout.stride)):
        left, right = fp.buf[lo - step : hi - step], fp.buf[lo + step : hi + step]
        np.maximum(left, right, out=high)
        np.minimum(left, right, out=low)
        np.subtract(x, high, out=high)  # crest excess
        np.subtract(low, x, out=low)  # trough excess
        excess = np.maximum(high, low, out=energy[lo:hi] if axis == 0 else high)
        np.maximum(excess, zeros, out=excess)  # array operand: numpy's scalar maximum is slow
        np.square(excess, out=excess)
        if axis:
            energy[lo:hi] += excess
    return fp.stack.interior(energy, 0, layout.planes)


def _interior_with_finite_neighbours(fp: FloatPlanes, ws: Workspace) -> np.ndarray:
    """Pixels whose own value and four neighbours exist and are finite, ``(b, H, W)`` bool."""
    layout = fp.layout
    b, h, w = layout.planes, layout.height, layout.width
    usable = np.zeros((b, h, w), dtype=bool)
    if fp.mask_group is None:
        usable[:, 1:-1, 1:-1] = True
        return usable
    lo, hi, s = layout.lead, layout.size - layout.stride, layout.stride
    m = fp.buf[fp.mask_group * b * layout.block :]
    ok_buf = ws.get("usable", fp.buf.shape, F32)
    ok = np.multiply(m[lo - s : hi - s], m[lo + s : hi + s], out=ok_buf[lo:hi])
    ok *= m[lo - 1 : hi - 1]
    ok *= m[lo + 1 : hi + 1]
    ok *= m[lo:hi]
    usable[:, 1:-1, 1:-1] = fp.stack.interior(ok_buf, 0, b, margin=1) > 0.5
    return usable


def edge_transitions(fp: FloatPlanes, ws: Workspace) -> np.ndarray:
    """Mask of the transition zones of strong edges (where ringing is *not* measured).

    A strong edge pixel has a smoothed gradient of at least ``T = max(EDGE_FLOOR * D,
    EDGE_NOISE_FACTOR * median gradient)``. Its transition zone is every pixel within
    ``FAR_RADIUS`` whose gradient is at least ``T / 8``: the whole ramp of a blurred edge and
    the rim of a bright object, whose own (brighter, hence noisier) pixels would otherwise be
    compared with flat background. Gradients are compared squared (no square root).
    """
    layout = fp.layout
    b = layout.planes
    grad2 = gradient_energy(fp, ws)  # (2 |gradient|)², in units of fp.buf
    finite = None if fp.mask_group is None else fp.pixels(fp.mask_group) > 0.5
    median = _median_gradient(fp.stack.interior(grad2, 0, b), finite)
    threshold = np.maximum(EDGE_FLOOR * fp.scaled_range, EDGE_NOISE_FACTOR * median)
    blocks = fp.stack.blocks(grad2, 0, b)
    strong = blocks >= np.square(2 * threshold).astype(F32)[:, None]
    transition = blocks >= np.square(2 * TRANSITION_FRACTION * threshold).astype(F32)[:, None]
    strong_px = _pixels(layout, strong)
    transition_px = _pixels(layout, transition)
    if finite is not None:
        strong_px &= finite
        transition_px &= finite
    return transition_px & dilate(strong_px, FAR_RADIUS)


def _pixels(layout: Layout, blocks: np.ndarray) -> np.ndarray:
    """Contiguous ``(b, H, W)`` copy of the plane pixels of ``(b, block)`` blocks."""
    grid = blocks.reshape(layout.planes, layout.height + PAD_ROWS, layout.stride)
    return np.ascontiguousarray(grid[:, : layout.height, : layout.width])


def gradient_energy(fp: FloatPlanes, ws: Workspace) -> np.ndarray:
    """``(2 |gradient|)²`` of the Gaussian-smoothed plane per pixel, flat padded buffer.

    Central differences ``s[i+1] - s[i-1]`` inside, twice the one-sided differences on the
    outermost rows and columns (as ``numpy.gradient``), so edges that reach the plane border
    are detected there too. Needs planes of at least 3x3.
    """
    layout = fp.layout
    b = layout.planes
    masks = b if fp.masked else 0
    s = local_means(
        fp.buf, fp.stack, masks, EDGE_SMOOTHING, ws.get("smooth", fp.buf.shape, F32), ws
    )
    gx = _twice_derivative(s, layout, 1, ws.get("gx", fp.buf.shape, F32))
    gy = _twice_derivative(s, layout, layout.stride, ws.get("gy", fp.buf.shape, F32))
    lo, hi = layout.lead, layout.size - layout.stride
    np.square(gx[lo:hi], out=gx[lo:hi])
    np.square(gy[lo:hi], out=gy[lo:hi])
    gx[lo:hi] += gy[lo:hi]
    return gx


def _twice_derivative(s: np.ndarray, layout: Layout, step: int, out: np.ndarray) -> np.ndarray:
    """``s[i+step] - s[i-step]`` inside, ``2 (s[1] - s[0])`` style at the plane border."""
    lo, hi = layout.lead, layout.size - layout.stride
    np.subtract(s[lo + step : hi + step], s[lo - step : hi - step], out=out[lo:hi])
    h, w = layout.height, layout.width
    sg = layout.grid(s)[:, :h, :w]
    og = layout.grid(out)[:, :h, :w]
    axis = 2 if step == 1 else 1
    n = w if axis == 2 else h
    first, second = _cut(axis, 0), _cut(axis, 1)
    last, before = _cut(axis, n - 1), _cut(axis, n - 2)
    np.subtract(sg[second], sg[first], out=og[first])
    np.subtract(sg[last], sg[before], out=og[last])
    og[first] *= 2.0
    og[last] *= 2.0
    return out


def _cut(axis: int, index: int) -> tuple[slice | int, ...]:
    """Index of one row (``axis`` 1) or column (``axis`` 2) of a ``(b, H, W)`` view."""
    cut: list[slice | int] = [slice(None)] * 3
    cut[axis] = index
    return tuple(cut)


def _median_gradient(grad2: np.ndarray, finite: np.ndarray | None) -> np.ndarray:
    """Median |gradient| per plane over finite pixels on a regular grid of ``MEDIAN_SAMPLES``.

    The median only sets the noise floor of the edge threshold, so a deterministic strided
    subsample is as good as every pixel and 50 times cheaper on a 512x512 plane. Planes
    without a finite sample give 0. ``grad2`` holds ``(2 |gradient|)²``; the square root is
    monotone, so only the two middle samples need one.
    """
    step = max(1, int(np.sqrt(grad2.shape[1] * grad2.shape[2] / MEDIAN_SAMPLES)))
    flat = grad2[:, ::step, ::step].reshape(len(grad2), -1)
    if finite is None:
        return _median_of_roots(flat)
    ok_flat = finite[:, ::step, ::step].reshape(len(grad2), -1)
    out = np.zeros(len(grad2))
    for i, (row, ok) in enumerate(zip(flat, ok_flat, strict=True)):
        if ok.any():
            out[i] = _median_of_roots(row[ok][None])[0]
    return out


def _median_of_roots(rows: np.ndarray) -> np.ndarray:
    """``numpy.median(sqrt(rows) / 2, axis=1)`` from the two middle order statistics."""
    n = rows.shape[1]
    middle = sorted({(n - 1) // 2, n // 2})
    picked = np.sqrt(np.partition(rows, middle, axis=1)[:, middle].astype(np.float64)) / 2.0
    return picked.mean(axis=1)
