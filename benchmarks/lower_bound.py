"""Measure the physical lower bound for a QC pass over a folder of images.

The bound is what any tool must at least spend: decode every image, then per
2-D plane compute min, max, mean and std (float64) and a 256-bin histogram over
[min, max], with bare numpy. Nothing else (no metadata, no output file, no
framework). Reported as

* ``read_s``: reading every byte from the warm page cache (like ``cat``),
* ``decode_s`` and ``stats_s``: one process, one thread, imports and first-call
  set-up excluded,
* ``ideal_wall_s``: ``(decode_s + stats_s) / cores``, the work split perfectly,
* ``pool_wall_s``: the same work actually run in a fork pool of ``cores``
  processes over files (imbalance and page-fault contention included).

Histogram rule: integer images get an exact ``bincount`` folded into 256 equal
bins over [min, max] (uint8: one bin per level, [0, 256)); float images use
``np.histogram``. Every histogram sums to the plane's pixel count (checked).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".png", ".tif", ".tiff")
STORE_SUFFIX = ".zarr"


@dataclass(slots=True)
class Cost:
    """Seconds spent per phase, plus what was processed."""

    files: int = 0
    planes: int = 0
    pixel_bytes: int = 0
    decode_s: float = 0.0
    minmax_s: float = 0.0
    mean_s: float = 0.0
    std_s: float = 0.0
    hist_s: float = 0.0

    @property
    def stats_s(self) -> float:
        return self.minmax_s + self.mean_s + self.std_s + self.hist_s

    def add(self, other: Cost) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def find_images(root: Path) -> list[Path]:
    """PNG/TIFF files and zarr stores under ``root`` (never descending into a store)."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        stores = [d for d in dirnames if d.endswith(STORE_SUFFIX)]
        found += [Path(dirpath, d) for d in stores]
        dirnames[:] = sorted(d for d in dirnames if d not in stores)
        found += [Path(dirpath, f) for f in filenames if f.lower().endswith(IMAGE_SUFFIXES)]
    return sorted(found)


def store_files(path: Path) -> list[Path]:
    """The files that make up one image (a zarr store is a directory)."""
    return [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]


def read_all(paths: list[Path]) -> tuple[float, int]:
    """Read every byte once, like ``cat > /dev/null``; return seconds and bytes."""
    buffer = memoryview(bytearray(8 << 20))  # reused, so no allocation is timed
    start, total = time.perf_counter(), 0
    for image in paths:
        for path in store_files(image):
            with open(path, "rb", buffering=0) as f:
                while n := f.readinto(buffer):
                    total += n
    return time.perf_counter() - start, total


def decode(path: Path) -> np.ndarray:
    """Decode one image fully into memory with the plain library for its format."""
    if path.suffix.lower() == ".png":
        from PIL import Image

        with Image.open(path) as im:
            return np.asarray(im)
    if path.is_dir():
        import zarr

        return np.asarray(zarr.open_array(path / "0", mode="r")[...])
    import tifffile

    return tifffile.imread(path, maxworkers=1)


def planes_of(array: np.ndarray, is_png: bool) -> np.ndarray:
    """View the array as (n_planes, Y, X); PNG colour samples come last, move them first."""
    if is_png and array.ndim == 3:
        array = np.moveaxis(array, -1, 0)
    return array.reshape(-1, *array.shape[-2:])


def histogram256(plane: np.ndarray, lo: int | float, hi: int | float) -> np.ndarray:
    """256 bins over [lo, hi]: exact integer counts folded into equal bins."""
    if plane.dtype == np.uint8:
        return np.bincount(plane.ravel(), minlength=256)
    if plane.dtype.kind == "f":
        return np.histogram(plane, bins=256, range=(float(lo), float(hi)))[0]
    flat = plane.ravel()
    if plane.dtype.kind == "i":
        flat = flat.astype(np.int64) - int(lo)
        counts = np.bincount(flat, minlength=int(hi) - int(lo) + 1)
    else:
        counts = np.bincount(flat)[int(lo) : int(hi) + 1]
    width = len(counts)
    folded = (np.arange(width, dtype=np.int64) * 256) // width
    return np.bincount(folded, weights=counts, minlength=256).astype(np.int64)


def plane_stats(plane: np.ndarray, cost: Cost) -> None:
    """The minimal statistics of one plane, each phase timed separately."""
    t0 = time.perf_counter()
    lo, hi = plane.min(), plane.max()
    t1 = time.perf_counter()
    plane.mean(dtype=np.float64)
    t2 = time.perf_counter()
    plane.std(dtype=np.float64)
    t3 = time.perf_counter()
    hist = histogram256(plane, lo, hi)
    t4 = time.perf_counter()
    cost.minmax_s += t1 - t0
    cost.mean_s += t2 - t1
    cost.std_s += t3 - t2
    cost.hist_s += t4 - t3
    assert int(hist.sum()) == plane.size, "histogram lost pixels"


def process(path: Path) -> Cost:
    """Decode one image and compute the statistics of every plane."""
    cost = Cost(files=1)
    start = time.perf_counter()
    array = decode(path)
    cost.decode_s = time.perf_counter() - start
    cost.pixel_bytes = array.nbytes
    for plane in planes_of(array, path.suffix.lower() == ".png"):
        plane_stats(plane, cost)
        cost.planes += 1
    return cost


def warm_up(paths: list[Path]) -> None:
    """Import the decoders and run each once, so set-up is not timed."""
    seen: set[str] = set()
    for path in paths:
        kind = "zarr" if path.is_dir() else path.suffix.lower()
        if kind not in seen:
            seen.add(kind)
            array = decode(path)
            plane_stats(planes_of(array, kind == ".png")[0], Cost())


def serial(paths: list[Path]) -> Cost:
    """One process, one file after another."""
    total = Cost()
    for path in paths:
        total.add(process(path))
    return total


def pooled(paths: list[Path], cores: int) -> float:
    """Wall seconds for the same work in a fork pool of ``cores`` processes."""
    ctx = multiprocessing.get_context("fork")
    start = time.perf_counter()
    with ctx.Pool(cores) as pool:
        for _ in pool.imap_unordered(process, paths, chunksize=max(1, len(paths) // (8 * cores))):
            pass
    return time.perf_counter() - start


def measure(root: Path, cores: int, with_pool: bool) -> dict:
    """All lower-bound figures for one folder."""
    paths = find_images(root)
    if not paths:
        raise SystemExit(f"lower_bound: no PNG, TIFF or zarr images under {root}")
    read_all(paths)  # make sure the page cache is warm
    read_s, read_bytes = read_all(paths)
    warm_up(paths)
    cost = serial(paths)
    cpu = cost.decode_s + cost.stats_s
    result = {"root": str(root), "cores": cores, "read_s": round(read_s, 3)}
    result["disk_bytes"] = read_bytes
    result.update({k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(cost).items()})
    result["stats_s"] = round(cost.stats_s, 3)
    result["cpu_s"] = round(cpu, 3)
    result["ideal_wall_s"] = round(cpu / cores, 3)
    result["pool_wall_s"] = round(pooled(paths, cores), 3) if with_pool else None
    return result


def summary(r: dict) -> str:
    """One human-readable line."""
    pool = f"{r['pool_wall_s']:.2f}" if r["pool_wall_s"] is not None else "-"
    return (
        f"{r['root']}: {r['files']} files, {r['planes']} planes, "
        f"{r['pixel_bytes'] / 1e6:.1f} MB pixels | read {r['read_s']:.2f} s | "
        f"decode {r['decode_s']:.2f} s + stats {r['stats_s']:.2f} s "
        f"(min/max {r['minmax_s']:.2f}, mean {r['mean_s']:.2f}, std {r['std_s']:.2f}, "
        f"hist {r['hist_s']:.2f}) | ideal on {r['cores']} cores {r['ideal_wall_s']:.2f} s, "
        f"fork pool {pool} s"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Lower bound for a QC pass: decode + bare-numpy per-plane "
        "min/max/mean/std/256-bin histogram, split over the cores.",
    )
    parser.add_argument("roots", nargs="+", type=Path, help="folders to measure (e.g. subsets)")
    parser.add_argument(
        "--cores", type=int, default=os.cpu_count() or 1, help="cores to split over (default: all)"
    )
    parser.add_argument("--no-pool", action="store_true", help="skip the measured fork-pool run")
    parser.add_argument("--json", action="store_true", help="print one JSON object per folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for root in args.roots:
        result = measure(root, args.cores, not args.no_pool)
        print(json.dumps(result) if args.json else summary(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
