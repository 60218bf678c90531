"""What checking Zarr chunks before decoding costs: milliseconds per chunk, checked vs plain.

Each store is read whole, alternately through plain zarr-python (``zarr.open_array`` on a
``LocalStore``) and through the loaders' checked arrays
(:func:`pixel_patrol_loader_bio._zarrguard.open_checked`), ``--repeat`` times each. Printed:
the CPU time of the process (all threads: zarr decodes in a thread pool) and the wall time
per chunk, each the minimum over the runs (the figure least disturbed by other load on the
machine), and the ratios checked / plain. Opening (metadata only) is timed the same way.

Stores: the real OME-Zarr stores in <repository>/../shared/realdata/ome-zarr (or
$PIXEL_PATROL_REALDATA), and synthetic arrays of 1000 chunks of 64x64 uint16 (8 KiB) and
100 chunks of 256x256 uint16 (128 KiB) for each codec the checks cover, written to a
temporary folder. Small chunks make any per-chunk cost show.

Usage: ``uv run --no-sync python benchmarks/zarr_chunk_check.py [--repeat 15]``.
Prints figures only; it is not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import zarr
from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec

from pixel_patrol_loader_bio._zarrguard import open_checked

REALDATA = Path(os.environ.get("PIXEL_PATROL_REALDATA") or Path(__file__).resolve().parents[2] / "shared" / "realdata") / "ome-zarr"
REAL = {
    "viv_blobs_image_v04 (v2 blosc)": ("viv_blobs_image_v04.ome.zarr", "0"),
    "viv_blobs_image_v05 (v3 zstd)": ("viv_blobs_image_v05.ome.zarr", "0"),
    "bf2raw series 0 (v2 blosc 512x512)": ("bf2raw_fake-series-2.zarr", "0/0"),
}


def synthetic() -> dict[str, dict[str, Any]]:
    return {
        "v2 blosc lz4": {"zarr_format": 2, "compressors": numcodecs.Blosc("lz4", shuffle=1)},
        "v2 zstd": {"zarr_format": 2, "compressors": numcodecs.Zstd()},
        "v2 zlib": {"zarr_format": 2, "compressors": numcodecs.Zlib()},
        "v2 uncompressed": {"zarr_format": 2, "compressors": None},
        "v3 blosc zstd": {"zarr_format": 3, "compressors": [BloscCodec()]},
        "v3 zstd": {"zarr_format": 3, "compressors": [ZstdCodec()]},
        "v3 gzip": {"zarr_format": 3, "compressors": [GzipCodec()]},
        "v3 sharded blosc": {"zarr_format": 3, "compressors": [BloscCodec()], "shards": "auto"},
    }


def write(root: Path, name: str, kw: dict[str, Any], count: int, side: int) -> tuple[str, int]:
    """An array of ``count`` chunks of side x side uint16 (smooth plus noise, compressible)."""
    shape = (10 * side, count // 10 * side)
    rng = np.random.default_rng(0)
    data = (np.add.outer(np.arange(shape[0]), np.arange(shape[1])) % 4000).astype(np.uint16)
    data += rng.integers(0, 64, shape, dtype=np.uint16)
    kw = dict(kw)
    fmt = kw.pop("zarr_format")
    if kw.get("shards") == "auto":
        kw["shards"] = (shape[0], shape[1] // 10)
    path = root / f"{name.replace(' ', '_')}_{side}"
    arr = zarr.create_array(
        str(path), shape=shape, chunks=(side, side), dtype="uint16", zarr_format=fmt, **kw
    )
    arr[...] = data
    return str(path), count


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """(CPU ms, wall ms) of one call."""
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    return 1000 * (time.process_time() - c0), 1000 * (time.perf_counter() - w0)


def compare(root: str, array_path: str, chunks: int, repeat: int) -> dict[str, float]:
    """Per-chunk CPU and wall ms of plain and checked reads, and open ms; runs interleaved."""
    full = os.path.join(root, array_path)

    def plain_open() -> Any:
        return zarr.open_array(zarr.storage.LocalStore(full, read_only=True), mode="r")

    arrays = {"plain": plain_open(), "checked": open_checked(root, array_path)}
    assert np.array_equal(arrays["plain"][...], arrays["checked"][...])
    opens = {"plain": plain_open, "checked": lambda: open_checked(root, array_path)}
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in arrays}
    opened: dict[str, list[float]] = {k: [] for k in arrays}
    for _ in range(repeat):
        for kind, arr in arrays.items():
            runs[kind].append(timed(lambda arr=arr: arr[...]))
            opened[kind].append(timed(opens[kind])[1])
    out = {}
    for kind in arrays:
        out[f"{kind} cpu"] = min(c for c, _ in runs[kind]) / chunks
        out[f"{kind} wall"] = min(w for _, w in runs[kind]) / chunks
        out[f"{kind} open"] = statistics.median(opened[kind])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(f"uptime load: {os.getloadavg()[0]:.2f} (machine has {os.cpu_count()} cores)")
    print("ms per chunk, minimum over runs; open: median ms")
    print(
        f"{'store':42} {'chunks':>6} {'cpu plain':>10} {'checked':>8} {'ratio':>6} "
        f"{'wall plain':>11} {'checked':>8} {'ratio':>6}  open plain / checked"
    )
    rows: list[tuple[str, str, str, int]] = []
    for label, (rel, arr) in REAL.items():
        if (REALDATA / rel).is_dir():
            rows.append((label, str(REALDATA / rel), arr, 1))
    with tempfile.TemporaryDirectory(prefix="zarrsafe-bench-") as tmp:
        for name, kw in synthetic().items():
            for count, side in ((1000, 64), (100, 256)):
                path, n = write(Path(tmp), name, kw, count, side)
                rows.append((f"{name}, {count} x {side}x{side} u16", path, "", n))
        for label, root, arr, n in rows:
            t = compare(root, arr, n, args.repeat)
            print(
                f"{label:42} {n:6d} {t['plain cpu']:10.4f} {t['checked cpu']:8.4f} "
                f"{t['checked cpu'] / t['plain cpu']:6.2f} {t['plain wall']:11.4f} "
                f"{t['checked wall']:8.4f} {t['checked wall'] / t['plain wall']:6.2f}  "
                f"{t['plain open']:5.2f} / {t['checked open']:5.2f}"
            )
    print(f"uptime load: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
