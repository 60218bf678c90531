"""``ringing_index``: oscillation beside strong edges relative to oscillation far from them.

Ringing (the Gibbs phenomenon of compression, deconvolution or band limiting) shows as ripples
in the otherwise flat region next to a strong edge. The index finds strong edges and their
transition ramps, measures crests and troughs in a band just outside the ramps and divides by
the same measure far from any edge, so noise (present in both) cancels. See
``docs/metrics.md`` for sources and caveats.
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_image._filters import dilate, gaussian_kernel, local_mean
from pixel_patrol_image._robust import FloatPlanes
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



def ringing_index(fp: FloatPlanes, ws: Workspace) -> np.ndarray:
    """Oscillation energy next to strong edges over the oscillation energy far from them.

    Oscillation is the local-extremum excess of :func:`oscillation_energy` (zero on any
    monotone run, however blurred); the result is ``(E_band + eps) / (E_far + eps)`` with the
    band 1..4 px outside the edge transitions and the far region more than 8 px from them.
    Null when the plane has no strong edge, no usable pixel in the band or far from the
    edges, is smaller than 3x3, or is constant.
    """
    shape = fp.centred.shape
    if shape[1] < 3 or shape[2] < 3:
        return np.full(shape[0], np.nan)
    z = fp.normalised(ws.get("z", shape))
    transition = edge_transitions(z, fp.finite, ws)
    usable = _interior_with_finite_neighbours(fp.finite, shape)
    band = dilate(transition, RING_RADIUS) & ~transition & usable
    far = ~dilate(transition, FAR_RADIUS) & usable
    energy = oscillation_energy(z, ws)
    n_band, n_far = band.sum(axis=(1, 2)), far.sum(axis=(1, 2))
    e_band = np.sum(energy, axis=(1, 2), where=band)
    e_far = np.sum(energy, axis=(1, 2), where=far)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (e_band / n_band + RINGING_EPS) / (e_far / n_far + RINGING_EPS)
    return np.where(fp.valid & (n_band > 0) & (n_far > 0), ratio, np.nan)


def oscillation_energy(z: np.ndarray, ws: Workspace) -> np.ndarray:
    """Squared local-extremum excess along X plus along Y, per pixel.

    Along one axis, with ``d1 = z - left`` and ``d2 = z - right``, the excess is
    ``max(min(d1, d2), -max(d1, d2), 0)``: how far a pixel stands above both neighbours (a
    crest) or below both (a trough). It is exactly zero on any monotone profile, so a
    blurred edge contributes nothing however soft it is, while every ripple of ringing
    contributes its amplitude. Outermost pixels are left at 0 (they are never used).
    """
    energy = ws.get("oscillation", z.shape)
    energy.fill(0.0)
    for axis in (1, 2):
        centre, before, after = (_shifted(axis, a, b) for a, b in ((1, -1), (0, -2), (2, None)))
        inner = z[centre].shape
        d1 = np.subtract(z[centre], z[before], out=ws.get(f"d1_{axis}", inner))
        d2 = np.subtract(z[centre], z[after], out=ws.get(f"d2_{axis}", inner))
        crest = np.minimum(d1, d2, out=ws.get(f"crest_{axis}", inner))
        np.maximum(d1, d2, out=d1)
        np.negative(d1, out=d1)
        np.maximum(crest, d1, out=crest)
        np.maximum(crest, 0.0, out=crest)
        np.square(crest, out=crest)
        energy[centre] += crest
    return energy


def _shifted(axis: int, start: int, stop: int | None) -> tuple[slice, ...]:
    """Index of a ``(b, H, W)`` array cut to ``start:stop`` along ``axis`` (1 = Y, 2 = X)."""
    index = [slice(None)] * 3
    index[axis] = slice(start, stop)
    return tuple(index)


def _interior_with_finite_neighbours(
    finite: np.ndarray | None, shape: tuple[int, ...]
) -> np.ndarray:
    """Pixels whose own value and four neighbours exist and are finite."""
    usable = np.zeros(shape, dtype=bool)
    if finite is None:
        usable[:, 1:-1, 1:-1] = True
        return usable
    f = finite
    centre = f[:, 1:-1, 1:-1] & f[:, :-2, 1:-1] & f[:, 2:, 1:-1]
    centre &= f[:, 1:-1, :-2] & f[:, 1:-1, 2:]
    usable[:, 1:-1, 1:-1] = centre
    return usable


def edge_transitions(z: np.ndarray, finite: np.ndarray | None, ws: Workspace) -> np.ndarray:
    """Mask of the transition zones of strong edges (where ringing is *not* measured).

    A strong edge pixel has a smoothed gradient of at least ``T = max(EDGE_FLOOR,
    EDGE_NOISE_FACTOR * median gradient)``. Its transition zone is every pixel within
    ``FAR_RADIUS`` whose gradient is at least ``T / 8``: the whole ramp of a blurred edge and
    the rim of a bright object, whose own (brighter, hence noisier) pixels would otherwise be
    compared with flat background.
    """
    grad = gradient_magnitude(z, finite, ws)
    threshold = np.maximum(EDGE_FLOOR, EDGE_NOISE_FACTOR * _median(grad, finite))[:, None, None]
    strong = grad >= threshold
    transition = grad >= threshold * TRANSITION_FRACTION
    if finite is not None:
        strong &= finite
        transition &= finite
    transition &= dilate(strong, FAR_RADIUS)
    return transition


def gradient_magnitude(z: np.ndarray, finite: np.ndarray | None, ws: Workspace) -> np.ndarray:
    """|gradient| of the Gaussian-smoothed plane, in dynamic ranges per pixel.

    Central differences inside, one-sided differences on the outermost rows and columns (as
    ``numpy.gradient``), so edges that reach the plane border are detected there too.
    """
    s = local_mean(z, finite, EDGE_SMOOTHING, ws.get("smooth", z.shape), ws)
    gx = _derivative(s, 2, ws.get("gx", z.shape))
    gy = _derivative(s, 1, ws.get("gy", z.shape))
    np.square(gx, out=gx)
    np.square(gy, out=gy)
    gx += gy
    return np.sqrt(gx, out=gx)


def _derivative(s: np.ndarray, axis: int, out: np.ndarray) -> np.ndarray:
    """First derivative along ``axis``; 0 for a plane of extent 1 along it."""
    n = s.shape[axis]
    if n < 2:
        out.fill(0.0)
        return out
    inner = _shifted(axis, 1, -1)
    np.subtract(s[_shifted(axis, 2, None)], s[_shifted(axis, 0, -2)], out=out[inner])
    out[inner] *= 0.5
    np.subtract(s[_shifted(axis, 1, 2)], s[_shifted(axis, 0, 1)], out=out[_shifted(axis, 0, 1)])
    last = _shifted(axis, n - 1, n)
    np.subtract(s[last], s[_shifted(axis, n - 2, n - 1)], out=out[last])
    return out


def _median(a: np.ndarray, finite: np.ndarray | None) -> np.ndarray:
    """Median per plane over finite pixels on a regular grid of at least ``MEDIAN_SAMPLES``.

    The median only sets the noise floor of the edge threshold, so a deterministic strided
    subsample is as good as every pixel and 50 times cheaper on a 512x512 plane. Planes
    without a finite sample give 0.
    """
    step = max(1, int(np.sqrt(a.shape[1] * a.shape[2] / MEDIAN_SAMPLES)))
    flat = a[:, ::step, ::step].reshape(len(a), -1)
    if finite is None:
        return np.median(flat, axis=1)
    ok_flat = finite[:, ::step, ::step].reshape(len(a), -1)
    out = np.zeros(len(a))
    for i, (row, ok) in enumerate(zip(flat, ok_flat, strict=True)):
        if ok.any():
            out[i] = np.median(row[ok])
    return out
