"""Write the bundled demo dataset ``examples/demo`` (seeded: the same pixels every time).

Two condition folders, ``control`` and ``treated``, with the kinds of files a microscopy
facility sees: 8-bit PNGs, an RGB PNG, 16-bit TIFF planes, an ImageJ Z/C hyperstack and a
two-series OME-TIFF. ``treated`` images are brighter and noisier so the report shows a
difference between the conditions.

Two problems are planted for ``pixel-patrol check`` to find: the second channel of
``treated/stack_zcyx.tif`` saturates a 12-bit camera (many pixels at 4095), and
``treated/nuclei_02.tif`` holds the same pixels as ``control/nuclei_00.tif`` (a copy that leaked
from one condition into the other, saved with other compression).

Run: ``uv run python examples/make_demo.py``
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

OUT = Path(__file__).parent / "demo"


def blobs(rng: np.random.Generator, shape: tuple[int, int], n: int = 12) -> np.ndarray:
    """Smooth bright spots on a dark background, values in [0, 1]."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    img = np.zeros(shape)
    for _ in range(n):
        cy, cx = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
        r = rng.uniform(3, 10)
        img += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    return img / max(img.max(), 1e-9)


def make_condition(folder: Path, rng: np.random.Generator, gain: float, noise: float) -> None:
    folder.mkdir(parents=True)
    for i in range(4):
        img = np.clip(blobs(rng, (128, 160)) * 150 * gain + rng.normal(40, noise, (128, 160)), 0, 255)
        Image.fromarray(img.astype(np.uint8)).save(folder / f"cells_{i:02d}.png")
    rgb = 20 + np.stack([blobs(rng, (96, 128)) for _ in range(3)], axis=-1) * 170 * gain
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(folder / "overview_rgb.png")
    for i in range(3):
        plane = blobs(rng, (256, 256)) * 2500 * gain + rng.normal(300, noise * 10, (256, 256))
        tifffile.imwrite(folder / f"nuclei_{i:02d}.tif", np.clip(plane, 0, 65535).astype(np.uint16))
    stack = np.stack(
        [np.stack([blobs(rng, (64, 64)) * (1500 + 500 * c) * gain for c in range(2)]) for _ in range(6)]
    )
    stack = np.clip(stack + rng.normal(100, noise * 5, stack.shape), 0, 65535).astype(np.uint16)
    tifffile.imwrite(
        folder / "stack_zcyx.tif", stack, imagej=True, metadata={"axes": "ZCYX"},
        resolution=(1 / 0.2, 1 / 0.2),
    )
    with tifffile.TiffWriter(folder / "two_series.ome.tif", ome=True) as tw:
        tw.write((20 + blobs(rng, (64, 96)) * 170 * gain).astype(np.uint8), metadata={"axes": "YX", "Name": "overview"})
        detail = np.stack([blobs(rng, (48, 48)) for _ in range(3)]) * 3000 + rng.normal(100, 3, (3, 48, 48))
        tw.write(detail.astype(np.uint16),
                 metadata={"axes": "ZYX", "Name": "detail", "PhysicalSizeX": 0.1, "PhysicalSizeY": 0.1, "PhysicalSizeZ": 0.5})


def plant_problems(rng: np.random.Generator) -> None:
    """A saturated channel and a copy leaked across conditions (see the module docstring)."""
    path = OUT / "treated" / "stack_zcyx.tif"
    stack = tifffile.imread(path)
    bright = np.stack([blobs(rng, (64, 64)) for _ in range(stack.shape[0])]) * 9000 + 100
    stack[:, 1] = np.minimum(bright + rng.normal(0, 20, bright.shape), 4095).astype(np.uint16)
    tifffile.imwrite(path, stack, imagej=True, metadata={"axes": "ZCYX"}, resolution=(1 / 0.2, 1 / 0.2))
    leaked = tifffile.imread(OUT / "control" / "nuclei_00.tif")
    tifffile.imwrite(OUT / "treated" / "nuclei_02.tif", leaked, compression="zlib")


def main() -> None:
    """Regenerate the demo folder from scratch."""
    shutil.rmtree(OUT, ignore_errors=True)
    rng = np.random.default_rng(42)
    make_condition(OUT / "control", rng, gain=1.0, noise=4.0)
    make_condition(OUT / "treated", rng, gain=1.3, noise=9.0)
    plant_problems(rng)
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
