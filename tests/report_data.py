"""A small dataset with planted problems for the HTML report tests, scanned with the bioio loader.

Two conditions of 16-bit Z/C stacks and 8-bit PNGs, plus: a saturated PNG, a constant (blank)
TIFF, the same TIFF stored in both conditions, a float image with NaN pixels and a TIFF that
cannot be read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile
from PIL import Image


def blobs(rng: np.random.Generator, shape: tuple[int, int], n: int = 8) -> np.ndarray:
    """Smooth spots in [0, 1]."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    img = np.zeros(shape)
    for _ in range(n):
        cy, cx, r = rng.uniform(0, shape[0]), rng.uniform(0, shape[1]), rng.uniform(2, 6)
        img += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    return img / max(img.max(), 1e-9)


def write_dataset(base: Path) -> Path:
    """Write the dataset under ``base`` (conditions ``ctrl`` and ``drug``); returns ``base``."""
    rng = np.random.default_rng(3)
    for cond, gain in (("ctrl", 1.0), ("drug", 1.6)):
        d = base / cond
        d.mkdir(parents=True)
        for i in range(3):
            stack = np.stack([np.stack([blobs(rng, (40, 48)) * 1500 * gain * (1 - 0.15 * z) for _ in range(2)]) for z in range(4)])
            stack = np.clip(stack + rng.normal(120, 10, stack.shape), 0, 4095).astype(np.uint16)
            tifffile.imwrite(d / f"stack_{i}.tif", stack, imagej=True, metadata={"axes": "ZCYX"}, resolution=(5.0, 5.0))
        for i in range(3):
            img = np.clip(blobs(rng, (32, 40)) * 150 * gain + rng.normal(30, 5, (32, 40)), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(d / f"cells_{i}.png")
    sat = np.clip(blobs(rng, (32, 40)) * 600, 0, 255).astype(np.uint8)
    Image.fromarray(sat).save(base / "drug" / "saturated.png")
    tifffile.imwrite(base / "ctrl" / "blank.tif", np.full((32, 40), 500, np.uint16))
    dup = np.clip(blobs(rng, (32, 40)) * 2000 + 100, 0, 4095).astype(np.uint16)
    tifffile.imwrite(base / "ctrl" / "dup_a.tif", dup)
    tifffile.imwrite(base / "drug" / "dup_b.tif", dup)
    fl = blobs(rng, (32, 40)).astype(np.float32)
    fl[:4, :5] = np.nan
    tifffile.imwrite(base / "drug" / "nan.tif", fl)
    (base / "ctrl" / "corrupt.tif").write_bytes(b"II*\x00" + bytes(range(256)) * 4)
    return base
