"""Synthetic scenes, codecs and slow reference formulas for the pixel-patrol-image tests.

The references are written pixel by pixel from the formulas in ``docs/metrics.md`` and share
no code with the package, so a vectorisation bug cannot hide behind itself.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Mapping

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from pixel_patrol_base.contracts import ImageContext, LeafStack
from pixel_patrol_image.compression import RasterCompression
from pixel_patrol_image.quality import RasterQuality

F32_REL = 1e-6
"""Relative tolerance for values computed with the float32 filters against float64 formulas:
the observed error on the small test arrays is below 1e-7."""


def scene(seed: int = 0, n: int = 192, noise: float = 2.0) -> np.ndarray:
    """A natural-looking 8-bit grey scene: smooth background, sharp discs, a bar, mild noise.

    Object edges avoid the 8-pixel grid on purpose, so that only a codec can put steps there.
    Values stay inside 20..235 (no clipping), so contrast changes are not hidden by saturation.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:n, :n]
    img = 110 + 25 * ndi.gaussian_filter(rng.normal(size=(n, n)), 6) / 0.05
    for _ in range(6):
        cy, cx = rng.uniform(20, n - 20, 2)
        r = rng.uniform(8, 24)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] += rng.choice([-1, 1]) * rng.uniform(40, 70)
    img[n // 4 + 3 : n // 2 + 3, n // 3 + 2 : n // 3 + 37] = 205
    img = ndi.gaussian_filter(img, 0.7) + rng.normal(0, noise, img.shape)
    return np.clip(np.round(img), 20, 235).astype(np.uint8)


def cells(seed: int = 0, n: int = 160) -> np.ndarray:
    """A fluorescence-like 8-bit scene: bright discs on a dark background, optical blur, noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:n, :n]
    img = np.full((n, n), 30.0)
    for _ in range(10):
        cy, cx = rng.uniform(15, n - 15, 2)
        r = rng.uniform(6, 14)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.uniform(130, 220)
    img = ndi.gaussian_filter(img, 1.0) + rng.normal(0, 2.0, (n, n))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def deconvolve(img: np.ndarray, sigma: float, lam: float = 0.01) -> np.ndarray:
    """Sharpen by Wiener-regularised inverse filtering of a Gaussian blur (rings at edges)."""
    fy = np.fft.fftfreq(img.shape[0])[:, None]
    fx = np.fft.fftfreq(img.shape[1])[None, :]
    g = np.exp(-2 * np.pi**2 * sigma**2 * (fy**2 + fx**2))
    return np.real(np.fft.ifft2(np.fft.fft2(img.astype(np.float64)) * g / (g * g + lam)))


def sharp_cells(seed: int = 0, n: int = 192) -> np.ndarray:
    """Bright discs with hard edges on a dark background (float64, no blur, no noise)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:n, :n]
    img = np.full((n, n), 30.0)
    for _ in range(14):
        cy, cx = rng.uniform(15, n - 15, 2)
        r = rng.uniform(6, 14)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.uniform(130, 220)
    return img


def photon_disks(seed: int = 0, n: int = 192, photons: float = 150.0) -> np.ndarray:
    """Photon-limited fluorescence: Poisson counts of blurred bright discs (uint16)."""
    rng = np.random.default_rng(seed)
    expected = ndi.gaussian_filter(sharp_cells(seed, n) * photons / 200.0, 1.0)
    return rng.poisson(expected).astype(np.uint16)


def gibbs(img: np.ndarray, fraction: float) -> np.ndarray:
    """Band-limit by truncating the spectrum: keep frequencies below ``fraction`` of Nyquist
    along each axis (the k-space truncation of MRI, a sharp low-pass): Gibbs ringing."""
    return np.real(np.fft.ifft2(np.fft.fft2(np.asarray(img, np.float64)) * _band(img, fraction)))


def band_limit(img: np.ndarray, fraction: float) -> np.ndarray:
    """The same band limit with a smooth (Hann) roll-off: the blur of :func:`gibbs` without
    its ringing."""
    return np.real(
        np.fft.ifft2(np.fft.fft2(np.asarray(img, np.float64)) * _band(img, fraction, hann=True))
    )


def _band(img: np.ndarray, fraction: float, hann: bool = False) -> np.ndarray:
    window = np.ones((1, 1))
    for axis, n in enumerate(np.shape(img)):
        f = np.abs(np.fft.fftfreq(n)) / (0.5 * fraction)
        w = np.where(f < 1, 0.5 + 0.5 * np.cos(np.pi * f), 0.0) if hann else (f <= 1) * 1.0
        window = window * (w[:, None] if axis == 0 else w[None, :])
    return window


def natural(name: str) -> np.ndarray:
    """A grey 8-bit natural test image shipped with scikit-image (no download)."""
    from skimage import data

    img = getattr(data, name)()
    if img.ndim == 3:
        img = np.round(img[..., :3] @ np.array([0.2125, 0.7154, 0.0721])).astype(np.uint8)
    return img


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip an 8-bit grey image through Pillow's baseline JPEG at ``quality``."""
    buf = io.BytesIO()
    pixels = np.clip(np.round(img), 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return np.asarray(Image.open(buf))


def unsharp(img: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    """Unsharp masking ``x + amount (x - G_sigma x)``: the classic sharpening with halos."""
    x = img.astype(np.float64)
    return x + amount * (x - ndi.gaussian_filter(x, sigma))


def stack_of(planes: np.ndarray, dim_order: str = "YX") -> LeafStack:
    """Leaf stack with one leaf per entry of the first axis of ``planes``."""
    return LeafStack(planes, ImageContext(dim_order, planes.shape[1:], str(planes.dtype)))


def metrics(plane: np.ndarray) -> dict[str, float]:
    """All six metrics of one 2-D plane, as plain floats (NaN = null)."""
    stack = stack_of(plane[None])
    out: dict[str, float] = {}
    for proc in (RasterQuality(), RasterCompression()):
        result: Mapping[str, np.ndarray] = proc.run(stack)
        out.update({k: float(v[0]) for k, v in result.items() if not k.endswith("_planes")})
    return out


def ref_percentile(values: list[float], q: float) -> float:
    """Percentile with linear interpolation between closest ranks (numpy's default rule)."""
    s = sorted(values)
    h = (len(s) - 1) * q / 100.0
    lo = math.floor(h)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (h - lo)


def ref_mscn_map(plane: np.ndarray) -> dict[tuple[int, int], tuple[float, float]]:
    """MSCN coefficient and local std of every finite pixel, one pixel at a time.

    Window: 7x7 Gaussian, sigma 7/6, truncated to the finite pixels inside the plane and
    renormalised; z = (x - P1) / (P99 - P1); C = 1/255.
    """
    h, w = plane.shape
    finite = [(i, j) for i in range(h) for j in range(w) if math.isfinite(plane[i, j])]
    vals = [float(plane[i, j]) for i, j in finite]
    lo, hi = ref_percentile(vals, 1), ref_percentile(vals, 99)
    d = hi - lo if hi > lo else max(vals) - min(vals)
    out = {}
    for i, j in finite:
        wsum = m1 = m2 = 0.0
        for di in range(-3, 4):
            for dj in range(-3, 4):
                y, x = i + di, j + dj
                if 0 <= y < h and 0 <= x < w and math.isfinite(plane[y, x]):
                    wt = math.exp(-(di * di + dj * dj) / (2 * (7 / 6) ** 2))
                    z = (float(plane[y, x]) - lo) / d
                    wsum, m1, m2 = wsum + wt, m1 + wt * z, m2 + wt * z * z
        mu = m1 / wsum
        sigma = math.sqrt(max(m2 / wsum - mu * mu, 0.0))
        out[i, j] = (((float(plane[i, j]) - lo) / d - mu) / (sigma + 1 / 255), sigma)
    return out


def ref_mscn(plane: np.ndarray) -> tuple[float, float]:
    """MSCN variance and texture heterogeneity (std / mean of the local std) of one plane."""
    pairs = list(ref_mscn_map(plane).values())
    coeffs = [c for c, _ in pairs]
    sigmas = [s for _, s in pairs]
    return float(np.var(coeffs)), float(np.std(sigmas) / np.mean(sigmas))


# ---------------------------------------------------------------- ringing reference


def _tv_excess(run: list[float]) -> float:
    """Total variation of a run of values minus its net change."""
    return sum(abs(b - a) for a, b in itertools.pairwise(run)) - abs(run[-1] - run[0])


def _strength_bin(d: float) -> int:
    """Binary exponent and top four mantissa bits of d (16 bins per octave)."""
    m, e = math.frexp(d)
    return (e + 1100) * 16 + int((2 * m - 1) * 16)


def ref_ringing_sites(plane: np.ndarray) -> list[tuple[int, bool, float, float, bool]]:
    """(strength bin, counted, across - along ripple, step, finite) of every edge site.

    Written pixel by pixel from docs/metrics.md: Sobel derivatives divided by 4; a site on X
    where |Dx| >= 2 |Dy|, 0 < |Dx| < inf and |Dx| is a strict maximum against the left and at
    least the right neighbour; flanks 3..6 px on both sides; along-edge runs over rows
    -2..+1 (columns, for sites on Y); counted when on a plane row that is a multiple of 4.
    """
    x = plane.astype(np.float64)
    sites = []
    for t in (False, True):  # X-axis sites, then Y-axis sites on the transposed plane
        v = x.T if t else x
        hh, ww = v.shape
        for i in range(2, hh - 1):
            for j in range(6, ww - 6):
                site = _ref_site(v, i, j)
                if site is not None:
                    strength, ripple, step = site
                    finite = math.isfinite(ripple) and math.isfinite(step)
                    counted = (j if t else i) % 4 == 0
                    sites.append((_strength_bin(strength), counted, ripple, step, finite))
    return sites


def _ref_site(v: np.ndarray, i: int, j: int) -> tuple[float, float, float] | None:
    """Strength, ripple and step of a site on the X axis of ``v`` at (i, j), or None."""

    def sobel(i: int, j: int) -> tuple[float, float]:
        def s(r: int, c: int) -> float:
            return v[r - 1, c] + 2 * v[r, c] + v[r + 1, c]

        def q(r: int, c: int) -> float:
            return v[r, c - 1] + 2 * v[r, c] + v[r, c + 1]

        return abs(s(i, j + 1) - s(i, j - 1)) / 4, abs(q(i + 1, j) - q(i - 1, j)) / 4

    a, b = sobel(i, j)
    if not (a >= 2 * b and 0 < a < math.inf):
        return None
    if not (a > sobel(i, j - 1)[0] and a >= sobel(i, j + 1)[0]):
        return None
    across = _tv_excess([v[i, j + k] for k in range(3, 7)])
    across += _tv_excess([v[i, j - k] for k in range(3, 7)])
    along = sum(
        _tv_excess([v[r, c] for r in range(i - 2, i + 2)])
        for k in range(3, 7)
        for c in (j - k, j + k)
    )
    hi = (v[i - 1, j + 6] + 2 * v[i, j + 6] + v[i + 1, j + 6]) / 4
    lo = (v[i - 1, j - 6] + 2 * v[i, j - 6] + v[i + 1, j - 6]) / 4
    return a, across - along / 4, abs(hi - lo)


def ref_ringing(plane: np.ndarray) -> float:
    """ringing_index from :func:`ref_ringing_sites`: strong = within one octave (16 bins)
    of the bin of the counted site of rank ceil(0.999 n); the summed ripple (at least 0) of
    the finite strong sites over their summed steps; null when their mean step is below the
    sample standard deviation of their ripple."""
    sites = ref_ringing_sites(plane)
    bins = sorted(b for b, counted, _, _, _ in sites if counted)
    if not bins:
        return math.nan
    reference = bins[math.ceil(0.999 * len(bins)) - 1]
    strong = [(r, s) for b, _, r, s, ok in sites if ok and b >= reference - 16]
    steps = sum(s for _, s in strong)
    if not strong or not steps > 0:
        return math.nan
    ripples = [r for r, _ in strong]
    spread = float(np.std(ripples, ddof=1)) if len(ripples) > 1 else 0.0
    if steps / len(strong) < spread:
        return math.nan  # no edge stands out of the noise
    return max(sum(ripples), 0.0) / steps
