"""Synthetic scenes, codecs and slow reference formulas for the pixel-patrol-image tests.

The references are written pixel by pixel from the formulas in ``docs/metrics.md`` and share
no code with the package, so a vectorisation bug cannot hide behind itself.
"""

from __future__ import annotations

import io
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


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip an 8-bit grey image through Pillow's baseline JPEG at ``quality``."""
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=quality)
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
