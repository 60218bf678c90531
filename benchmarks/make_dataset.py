"""Generate the seeded synthetic benchmark dataset.

The same seed and scale always give byte-identical files, so timings taken on
different days or machines refer to the same bytes. Pixel content is a few smooth
Gaussian blobs plus Gaussian noise: PNG and Blosc compress it a little, and the
quality metrics have some structure to measure.

Subsets (counts at ``--scale 1``)::

    small2d/  2,000 images 256x256: cond_a/ and cond_b/, each 500 uint8 PNG and
              500 uint16 uncompressed TIFF (axes YX); cond_b is brighter and noisier
    stacks/   100 uint16 ImageJ hyperstacks ZCYX 16x2x512x512, 0.1 um pixels, dZ 0.5 um
    big/      2 uint16 ImageJ volumes ZYX 300x1024x2048 (about 1.26 GB each)
    zarr/     20 OME-NGFF 0.4 (zarr v2) stores, uint16 ZYX 32x512x512,
              chunks 8x256x256, Blosc lz4 + shuffle

Every item draws from its own generator seeded by (seed, subset, index), so
generating one subset with ``--only`` gives the same bytes as generating all.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SUBSETS = ("small2d", "stacks", "big", "zarr")
SUBSET_IDS = {name: i + 1 for i, name in enumerate(SUBSETS)}
POOL_STREAM = 1_000_000  # generator stream index reserved for a subset's noise pool


@dataclass(frozen=True, slots=True)
class Look:
    """Intensity model of one image: background + gain * blobs + sigma * noise."""

    background: float
    gain: float
    sigma: float


UINT8_LOOKS = {"cond_a": Look(30.0, 120.0, 6.0), "cond_b": Look(55.0, 150.0, 14.0)}
UINT16_LOOKS = {"cond_a": Look(500.0, 2000.0, 40.0), "cond_b": Look(800.0, 2600.0, 90.0)}
STACK_LOOK = Look(400.0, 1500.0, 30.0)


def item_rng(seed: int, subset: str, index: int) -> np.random.Generator:
    """One independent generator per item, so subsets and items never share draws."""
    return np.random.default_rng([seed, SUBSET_IDS[subset], index])


def scaled(count: int, scale: float) -> int:
    """Scale a count, keeping at least one item."""
    return max(1, round(count * scale))


class NoisePool:
    """Pre-drawn standard-normal fields; images take random windows of them.

    Drawing fresh normals for 4.6 GB of pixels would dominate generation time, and
    the statistics being benchmarked do not care that windows overlap.
    """

    def __init__(self, rng: np.random.Generator, shape: tuple[int, int], n_fields: int = 2):
        self.shape = shape
        self.margin = 128
        h, w = shape
        self.fields = [
            rng.standard_normal((h + self.margin, w + self.margin), dtype=np.float32)
            for _ in range(n_fields)
        ]

    def window(self, rng: np.random.Generator) -> np.ndarray:
        """A view of one field at a random offset (no copy)."""
        field = self.fields[int(rng.integers(len(self.fields)))]
        dy, dx = (int(v) for v in rng.integers(0, self.margin, size=2))
        h, w = self.shape
        return field[dy : dy + h, dx : dx + w]

    def stack(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` windows stacked into an (n, h, w) array."""
        return np.stack([self.window(rng) for _ in range(n)])


def gaussian_factors(rng: np.random.Generator, n_blobs: int, length: int) -> np.ndarray:
    """1-D Gaussian profiles (length x n_blobs) with random centres and widths."""
    centre = rng.uniform(0, length, n_blobs)
    width = rng.uniform(length / 24, length / 6, n_blobs)
    axis = np.arange(length, dtype=np.float32)[:, None]
    return np.exp(-0.5 * ((axis - centre) / width) ** 2).astype(np.float32)


def blobs(rng: np.random.Generator, shape: tuple[int, ...], n_blobs: int = 6) -> np.ndarray:
    """Sum of separable Gaussian blobs in [0, ~1], shape (Y, X) or (Z, Y, X).

    Separable factors turn the sum into one (batched) matrix product instead of an
    exp over every voxel.
    """
    amp = rng.uniform(0.3, 1.0, n_blobs).astype(np.float32)
    gy = gaussian_factors(rng, n_blobs, shape[-2])
    gx = gaussian_factors(rng, n_blobs, shape[-1])
    if len(shape) == 2:
        return (gy * amp) @ gx.T
    gz = gaussian_factors(rng, n_blobs, shape[0])
    return (gy[None, :, :] * (amp * gz)[:, None, :]) @ gx.T


def render(signal: np.ndarray, noise: np.ndarray, look: Look, dtype: type) -> np.ndarray:
    """Combine blobs and noise, clip to the dtype's range and cast."""
    out = signal * np.float32(look.gain)
    out += np.float32(look.sigma) * noise
    out += np.float32(look.background)
    info = np.iinfo(dtype)
    np.clip(out, info.min, info.max, out=out)
    return out.astype(dtype)


def write_small2d(root: Path, seed: int, scale: float) -> list[Path]:
    """Write the 2-D PNG and TIFF images of both conditions."""
    import tifffile
    from PIL import Image

    pool = NoisePool(item_rng(seed, "small2d", POOL_STREAM), (256, 256), n_fields=4)
    per_kind = scaled(500, scale)
    paths: list[Path] = []
    for c, cond in enumerate(("cond_a", "cond_b")):
        folder = root / cond
        folder.mkdir(parents=True)
        for i in range(per_kind):
            rng = item_rng(seed, "small2d", c * 10_000 + i)
            png = render(blobs(rng, (256, 256)), pool.window(rng), UINT8_LOOKS[cond], np.uint8)
            paths.append(folder / f"img_{i:04d}.png")
            Image.fromarray(png).save(paths[-1], compress_level=6)
            tif = render(blobs(rng, (256, 256)), pool.window(rng), UINT16_LOOKS[cond], np.uint16)
            paths.append(folder / f"img_{i:04d}.tif")
            tifffile.imwrite(paths[-1], tif, metadata={"axes": "YX"})
    return paths


def write_stacks(root: Path, seed: int, scale: float) -> list[Path]:
    """Write ImageJ ZCYX hyperstacks with pixel size and Z spacing."""
    import tifffile

    z, c, y, x = 16, 2, 512, 512
    pool = NoisePool(item_rng(seed, "stacks", POOL_STREAM), (y, x))
    root.mkdir(parents=True)
    paths: list[Path] = []
    for i in range(scaled(100, scale)):
        rng = item_rng(seed, "stacks", i)
        channels = [
            render(blobs(rng, (z, y, x)), pool.stack(rng, z), STACK_LOOK, np.uint16)
            for _ in range(c)
        ]
        data = np.stack(channels, axis=1)  # ZCYX
        paths.append(root / f"stack_{i:03d}.tif")
        tifffile.imwrite(
            paths[-1],
            data,
            imagej=True,
            resolution=(10.0, 10.0),
            metadata={"axes": "ZCYX", "spacing": 0.5, "unit": "um"},
        )
    return paths


def volume_planes(rng: np.random.Generator, pool: NoisePool, depth: int) -> Iterator[np.ndarray]:
    """Yield the Z planes of one big volume slab by slab, so memory stays small."""
    y, x = pool.shape
    slab = 16
    signal_z = gaussian_factors(rng, 6, depth)
    amp = rng.uniform(0.3, 1.0, 6).astype(np.float32)
    gy = gaussian_factors(rng, 6, y)
    gx = gaussian_factors(rng, 6, x)
    for z0 in range(0, depth, slab):
        gz = signal_z[z0 : z0 + slab]
        signal = (gy[None, :, :] * (amp * gz)[:, None, :]) @ gx.T
        yield from render(signal, pool.stack(rng, len(gz)), STACK_LOOK, np.uint16)


def write_big(root: Path, seed: int, scale: float) -> list[Path]:
    """Write two large ImageJ ZYX volumes, streamed plane by plane."""
    import tifffile

    depth, y, x = scaled(300, scale), 1024, 2048
    pool = NoisePool(item_rng(seed, "big", POOL_STREAM), (y, x))
    root.mkdir(parents=True)
    paths: list[Path] = []
    for i in range(2):
        rng = item_rng(seed, "big", i)
        paths.append(root / f"vol_{i}.tif")
        tifffile.imwrite(
            paths[-1],
            volume_planes(rng, pool, depth),
            shape=(depth, y, x),
            dtype=np.uint16,
            imagej=True,
            resolution=(10.0, 10.0),
            metadata={"axes": "ZYX", "spacing": 0.5, "unit": "um"},
        )
    return paths


def ngff_attrs(name: str, scale_zyx: tuple[float, float, float]) -> dict:
    """OME-NGFF 0.4 multiscales metadata for a single-level ZYX image."""
    axes = [{"name": a, "type": "space", "unit": "micrometer"} for a in "zyx"]
    dataset = {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": scale_zyx}]}
    return {"multiscales": [{"version": "0.4", "name": name, "axes": axes, "datasets": [dataset]}]}


def write_zarr(root: Path, seed: int, scale: float) -> list[Path]:
    """Write OME-NGFF 0.4 zarr v2 stores with Blosc lz4 + shuffle chunks."""
    import zarr
    from numcodecs import Blosc

    shape, chunks = (32, 512, 512), (8, 256, 256)
    pool = NoisePool(item_rng(seed, "zarr", POOL_STREAM), shape[1:])
    root.mkdir(parents=True)
    paths: list[Path] = []
    for i in range(scaled(20, scale)):
        rng = item_rng(seed, "zarr", i)
        data = render(blobs(rng, shape), pool.stack(rng, shape[0]), STACK_LOOK, np.uint16)
        paths.append(root / f"img_{i:03d}.ome.zarr")
        group = zarr.open_group(paths[-1], mode="w", zarr_format=2)
        group.attrs.update(ngff_attrs(paths[-1].name, (0.5, 0.1, 0.1)))
        array = group.create_array(
            "0",
            shape=shape,
            chunks=chunks,
            dtype="uint16",
            compressors=Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE),
            chunk_key_encoding={"name": "v2", "separator": "/"},
            fill_value=0,
        )
        array[:] = data
    return paths


WRITERS: dict[str, Callable[[Path, int, float], list[Path]]] = {
    "small2d": write_small2d,
    "stacks": write_stacks,
    "big": write_big,
    "zarr": write_zarr,
}


def disk_bytes(path: Path) -> int:
    """Size of a file, or of every file under a directory store."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def pixel_bytes(path: Path) -> int:
    """Uncompressed pixel bytes of one generated image, read back from its header."""
    if path.suffix == ".png":
        from PIL import Image

        with Image.open(path) as im:
            return im.width * im.height * (1 if im.mode == "L" else len(im.getbands()))
    if path.suffix == ".tif":
        import tifffile

        with tifffile.TiffFile(path) as tf:
            series = tf.series[0]
            return int(np.prod(series.shape)) * series.dtype.itemsize
    import zarr

    array = zarr.open_array(path / "0", mode="r")
    return int(np.prod(array.shape)) * array.dtype.itemsize


def describe(root: Path, subset: str, paths: list[Path], seed: int, scale: float) -> dict:
    """Manifest entry: what was written and how big it is."""
    return {
        "seed": seed,
        "scale": scale,
        "files": len(paths),
        "disk_bytes": sum(disk_bytes(p) for p in paths),
        "pixel_bytes": sum(pixel_bytes(p) for p in paths),
        "paths": [str(p.relative_to(root)) for p in paths],
    }


def update_manifest(out: Path, entries: dict[str, dict]) -> dict:
    """Merge new subset entries into OUT/manifest.json (other subsets are kept)."""
    path = out / "manifest.json"
    manifest = json.loads(path.read_text()) if path.exists() else {"subsets": {}}
    manifest["subsets"].update(entries)
    manifest["generator"] = "benchmarks/make_dataset.py"
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Generate the seeded synthetic Pixel Patrol benchmark dataset.",
        epilog="Example: make_dataset.py /tmp/pp-bench-data --scale 0.05 --only small2d stacks",
    )
    parser.add_argument("out", type=Path, help="output directory (subset folders are replaced)")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="shrink file counts and the Z depth of big/ by this factor (default 1.0)",
    )
    parser.add_argument(
        "--only", nargs="+", choices=SUBSETS, default=list(SUBSETS), help="subsets to generate"
    )
    parser.add_argument("--seed", type=int, default=20240501, help="base seed (default 20240501)")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1:
        parser.error("--scale must be in (0, 1]")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict] = {}
    for subset in args.only:
        root = args.out / subset
        if root.exists():
            shutil.rmtree(root)
        start = time.perf_counter()
        paths = WRITERS[subset](root, args.seed, args.scale)
        entries[subset] = describe(args.out, subset, paths, args.seed, args.scale)
        e = entries[subset]
        print(
            f"{subset:8s} {e['files']:5d} files  disk {e['disk_bytes'] / 1e6:9.1f} MB  "
            f"pixels {e['pixel_bytes'] / 1e6:9.1f} MB  {time.perf_counter() - start:6.1f} s",
            flush=True,
        )
    update_manifest(args.out, entries)
    print(f"manifest: {args.out / 'manifest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
