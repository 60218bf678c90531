"""How the six image-quality metrics respond to blur, JPEG, noise, contrast and band limiting.

For a few test images (natural photographs bundled with scikit-image, and two synthetic
microscopy-like images made here) the script applies each effect, computes all six metrics of
``raster-quality`` and ``raster-compression`` on the result, and prints one Markdown table per
image: the value and, in brackets, its change against the unmodified image (in percent; for
``ringing_index``, whose value without ringing is 0, as a difference). The tables in
``docs/metrics.md`` are this script's output.

Effects: Gaussian blur (sigma 1, 2, 4 px), baseline JPEG (Pillow, quality 95, 50, 10), additive
Gaussian noise (sigma 2 % of the image's 1st-99th percentile range), a linear contrast stretch
of that range to 0..255, the spectrum truncated at half the Nyquist frequency along each axis
(Gibbs ringing), and the same band limit with a smooth (Hann) roll-off (blur without ringing).

Run with ``uv run --no-sync python benchmarks/metric_behaviour.py`` (``--images`` to choose).
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from pixel_patrol_base.contracts import ImageContext, LeafStack
from pixel_patrol_image.compression import RasterCompression
from pixel_patrol_image.quality import RasterQuality

METRICS = (
    "michelson_contrast",
    "mscn_variance",
    "texture_heterogeneity",
    "laplacian_variance",
    "blocking_index",
    "ringing_index",
)
SHORT = ("michelson", "mscn var", "texture het", "laplacian var", "blocking", "ringing")


def natural(name: str) -> np.ndarray:
    """A grey 8-bit image from scikit-image's bundled data (no download)."""
    from skimage import data

    img = getattr(data, name)()
    if img.ndim == 3:
        img = np.round(img[..., :3] @ np.array([0.2125, 0.7154, 0.0721]))
    return img.astype(np.uint8)


def discs(seed: int, n: int = 256) -> np.ndarray:
    """Bright discs with hard edges on a dark background (float64)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:n, :n]
    img = np.full((n, n), 30.0)
    for _ in range(20):
        cy, cx = rng.uniform(15, n - 15, 2)
        r = rng.uniform(6, 14)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.uniform(130, 220)
    return img


def fluorescence(seed: int = 0) -> np.ndarray:
    """Discs blurred by the optics (sigma 1 px) with camera noise (sigma 2), 8-bit."""
    rng = np.random.default_rng(seed)
    img = ndi.gaussian_filter(discs(seed), 1.0) + rng.normal(0, 2.0, (256, 256))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def photon_limited(seed: int = 0) -> np.ndarray:
    """Poisson counts of blurred discs, about 150 photons in the brightest (uint16)."""
    rng = np.random.default_rng(seed)
    return rng.poisson(ndi.gaussian_filter(discs(seed) * 0.75, 1.0)).astype(np.uint16)


IMAGES: dict[str, Callable[[], np.ndarray]] = {
    "camera": lambda: natural("camera"),
    "astronaut": lambda: natural("astronaut"),
    "fluorescence": fluorescence,
    "photon-limited": photon_limited,
}


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """Round trip through Pillow's baseline JPEG (8-bit)."""
    buf = io.BytesIO()
    Image.fromarray(np.clip(np.round(img), 0, 255).astype(np.uint8)).save(
        buf, "JPEG", quality=quality
    )
    buf.seek(0)
    return np.asarray(Image.open(buf))


def band(img: np.ndarray, fraction: float, smooth: bool) -> np.ndarray:
    """Keep frequencies below ``fraction`` of Nyquist per axis: a hard cut or a Hann roll-off."""
    window = np.ones((1, 1))
    for axis, n in enumerate(img.shape):
        f = np.abs(np.fft.fftfreq(n)) / (0.5 * fraction)
        w = np.where(f < 1, 0.5 + 0.5 * np.cos(np.pi * f), 0.0) if smooth else (f <= 1) * 1.0
        window = window * (w[:, None] if axis == 0 else w[None, :])
    return np.real(np.fft.ifft2(np.fft.fft2(img.astype(np.float64)) * window))


def effects(img: np.ndarray) -> dict[str, np.ndarray]:
    """Every test condition applied to ``img`` (the first is the image itself)."""
    x = img.astype(np.float64)
    lo, hi = np.percentile(x, [1, 99])
    rng = np.random.default_rng(0)
    out = {"original": img}
    out.update({f"blur sigma {s}": ndi.gaussian_filter(x, s) for s in (1, 2, 4)})
    out.update({f"JPEG q{q}": jpeg(x, q) for q in (95, 50, 10)})
    out["noise 2 % of range"] = x + rng.normal(0, 0.02 * (hi - lo), x.shape)
    out["contrast stretch"] = (x - lo) * (255.0 / (hi - lo))
    out["spectrum cut at Nyquist/2 (Gibbs)"] = band(x, 0.5, smooth=False)
    out["Hann band limit at Nyquist/2"] = band(x, 0.5, smooth=True)
    return out


def metrics(plane: np.ndarray) -> dict[str, float]:
    """All six metrics of one plane."""
    stack = LeafStack(plane[None], ImageContext("YX", plane.shape, str(plane.dtype)))
    values: dict[str, float] = {}
    for proc in (RasterQuality(), RasterCompression()):
        values.update({k: float(v[0]) for k, v in proc.run(stack).items()})
    return values


ABSOLUTE = {"ringing_index"}
"""Metrics whose no-effect value is 0: their change is shown as a difference, not in %."""


def cell(name: str, value: float, base: float, first: bool) -> str:
    """``value`` with its change against ``base`` (in percent, or a difference)."""
    if np.isnan(value):
        return "null"
    text = f"{value:.3g}"
    if first or np.isnan(base):
        return text
    if name in ABSOLUTE:
        return f"{text} ({value - base:+.3f})"
    return f"{text} ({100 * (value - base) / abs(base):+.0f} %)"


def table(name: str, img: np.ndarray) -> str:
    """Markdown table of the six metrics under every effect for one image."""
    rows = [(label, metrics(np.asarray(v))) for label, v in effects(img).items()]
    base = rows[0][1]
    lines = [
        f"**{name}** ({img.shape[0]}x{img.shape[1]} {img.dtype})",
        "",
        "| condition | " + " | ".join(SHORT) + " |",
        "|---|" + "---:|" * len(SHORT),
    ]
    for i, (label, vals) in enumerate(rows):
        cells = [cell(m, vals[m], base[m], i == 0) for m in METRICS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    """Print one table per image."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", nargs="*", default=list(IMAGES), choices=list(IMAGES))
    args = parser.parse_args()
    for name in args.images:
        print(table(name, IMAGES[name]()))
        print()


if __name__ == "__main__":
    main()
