"""Wall time and peak memory of ``pixel-patrol check`` on a report of 100,000 images.

The report is written directly as an Arrow table with the real schema (the columns a
``--loader bioio`` scan with every installed processor declares), not by scanning: 90 % of
the images are 3-channel planes (4 rows each: the image and its channels), 10 % are 3-channel
Z stacks of 5 slices (24 rows each), so the file has about 600,000 rows, each with a
256-bin histogram, and every image has a 64×64 thumbnail. Values are random but shaped like
real ones (12-bit intensities, smooth histograms, thumbnails of 8×8 random blocks), with a few
planted duplicates and saturated images so every rule has work to do.

Then ``pixel-patrol check REPORT --json OUT`` runs in a child process; the script prints its
wall time, peak RSS (``ru_maxrss`` of the child) and the findings counts. Target: ≤ 10 s and
≤ 2 GB on the 2-core development machine.

Run: ``uv run --no-sync python benchmarks/check_speed.py [--images 100000] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pixel_patrol_base.plugins import PROCESSOR_GROUP, get_loader, get_processor, list_plugins
from pixel_patrol_base.schema import report_columns, to_schema

BATCH = 5000
"""Images generated and written per row group batch (bounds the generator's memory)."""


def schema() -> pa.Schema:
    """The report schema of a bioio scan with every installed processor."""
    procs = [get_processor(p.id) for p in list_plugins(PROCESSOR_GROUP)]
    return to_schema(report_columns(get_loader("bioio"), procs, {}))


def _layout(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per image: whether it is a stack, and its number of rows."""
    stack = rng.random(n) < 0.1
    return stack, np.where(stack, 24, 4)


def _row_dims(stack: bool) -> list[tuple[int, int | None, int | None]]:
    """(obs_level, dim_z, dim_c) of the rows of one image, in report order."""
    if not stack:
        return [(0, None, None)] + [(1, None, c) for c in range(3)]
    rows = [(0, None, None)] + [(1, z, None) for z in range(5)] + [(1, None, c) for c in range(3)]
    return rows + [(2, z, c) for z in range(5) for c in range(3)]


def _histograms(rng: np.random.Generator, n: int) -> np.ndarray:
    centre = rng.uniform(30, 120, n)[:, None]
    width = rng.uniform(8, 30, n)[:, None]
    bins = np.arange(256)[None, :]
    shape = np.exp(-0.5 * ((bins - centre) / width) ** 2) + 0.02 * np.exp(-bins / 60.0)
    return np.round(shape / shape.sum(axis=1, keepdims=True) * 9216).astype(np.int64)


def _thumbnails(rng: np.random.Generator, n: int) -> list[bytes]:
    blocks = rng.integers(0, 256, (n, 8, 8), dtype=np.uint8)
    grey = np.kron(blocks, np.ones((8, 8), dtype=np.uint8)).reshape(n, 64, 64)
    rgba = np.empty((n, 64, 64, 4), dtype=np.uint8)
    rgba[..., :3] = grey[..., None]
    rgba[..., 3] = 255
    return [t.tobytes() for t in rgba]


def batch_table(sch: pa.Schema, rng: np.random.Generator, first: int, n: int) -> pa.Table:
    """Rows of images ``first … first + n - 1``."""
    stack, _ = _layout(rng, n)
    dims = [_row_dims(bool(s)) for s in stack]
    img = np.concatenate([np.full(len(d), i) for i, d in enumerate(dims)])
    flat = [r for d in dims for r in d]
    rows = len(flat)
    obs = np.array([r[0] for r in flat], dtype=np.int8)
    cond = (first + img) % 10
    data: dict[str, object] = {
        "imported_path": [f"/data/cond_{c}/img_{first + i:06d}.ome.tif" for i, c in zip(img, cond, strict=True)],
        "obs_level": obs,
        "path": [f"cond_{c}" for c in cond],
        "file_name": [f"img_{first + i:06d}.ome.tif" for i in img],
        "file_extension": ["ome.tif"] * rows,
        "dim_z": pa.array([r[1] for r in flat], pa.int64()),
        "dim_c": pa.array([r[2] for r in flat], pa.int64()),
        "dtype": ["uint16"] * rows,
        "dim_order": ["CZYX" if stack[i] else "CYX" for i in img],
        "C_size": np.where(np.array([r[2] for r in flat], dtype=object) == None, 3, 1).astype(np.int64),  # noqa: E711
        "Z_size": np.where(stack[img], 5, 1),
        "Y_size": np.full(rows, 512),
        "X_size": np.full(rows, 512),
        "num_pixels": np.full(rows, 512 * 512),
        "pixel_size_X": np.full(rows, 0.1),
        "pixel_size_Y": np.full(rows, 0.1),
        "pixel_size_unit": ["µm"] * rows,
        "channel_names": [["DAPI", "GFP", "RFP"]] * rows,
        "significant_bits": np.full(rows, 16, dtype=np.int32),
        "finite_pixel_count": np.full(rows, 512 * 512),
        "histogram_min": np.full(rows, 100.0),
        "histogram_max": np.full(rows, 100.0 + 256 * 16),
        "histogram_nan_count": np.zeros(rows, dtype=np.int64),
    }
    mean = rng.normal(400, 40, rows)
    data["mean_intensity"] = mean
    data["std_intensity"] = mean * rng.normal(0.5, 0.03, rows)
    data["min_intensity"] = np.round(rng.uniform(90, 100, rows))
    data["max_intensity"] = np.round(rng.uniform(2500, 3500, rows))
    data["count_at_max"] = rng.integers(1, 4, rows)
    data["count_at_min"] = rng.integers(1, 4, rows)
    saturated = rng.random(rows) < 0.001
    data["max_intensity"] = np.where(saturated, 4095.0, data["max_intensity"])
    data["count_at_max"] = np.where(saturated, 5000, data["count_at_max"])
    for name in ("michelson_contrast", "mscn_variance", "texture_heterogeneity", "laplacian_variance", "blocking_index", "ringing_index"):
        data[name] = np.abs(rng.normal(1.0, 0.08, rows)) * (5000.0 if name == "laplacian_variance" else 1.0)
    hashes = rng.integers(0, 2**63, (n, 2), dtype=np.uint64)
    dup = rng.random(n) < 0.001
    hashes[dup] = hashes[0]
    data["pixel_hash"] = pa.array([f"{a:016x}{b:016x}" if o == 0 else None for (a, b), o in zip(hashes[img], obs, strict=True)], pa.string())
    thumbs = _thumbnails(rng, n)
    data["thumbnail"] = pa.array([thumbs[i] if o == 0 else None for i, o in zip(img, obs, strict=True)], pa.binary())
    hist = _histograms(rng, rows)
    data["histogram_counts"] = pa.FixedSizeListArray.from_arrays(pa.array(hist.reshape(-1)), 256)
    arrays = []
    for field in sch:
        value = data.get(field.name)
        if value is None:
            arrays.append(pa.nulls(rows, field.type))
        else:
            arrays.append(value if isinstance(value, pa.Array) else pa.array(value, field.type))
    return pa.Table.from_arrays(arrays, schema=sch)


def write_report(path: Path, images: int, seed: int = 0) -> int:
    """Write the synthetic report; returns its number of rows."""
    sch = schema()
    rng = np.random.default_rng(seed)
    rows = 0
    with pq.ParquetWriter(path, sch, compression="zstd") as writer:
        for first in range(0, images, BATCH):
            table = batch_table(sch, rng, first, min(BATCH, images - first))
            writer.write_table(table, row_group_size=2048)
            rows += table.num_rows
    return rows


def main() -> None:
    """Write the report, time ``check`` on it in a child process, print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, default=None, help="Folder to keep the report in.")
    parser.add_argument("--reuse", action="store_true", help="Time the report already in --keep.")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="check-speed-"))
    folder.mkdir(parents=True, exist_ok=True)
    report = folder / "report.parquet"
    t0 = time.perf_counter()
    if not (args.reuse and report.exists()):
        write_report(report, args.images)
    rows = pq.ParquetFile(report).metadata.num_rows
    print(f"report: {rows:,} rows, {report.stat().st_size / 1e6:.0f} MB on disk (ready in {time.perf_counter() - t0:.0f} s)")
    out = folder / "findings.json"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pixel_patrol_base", "check", str(report), "--json", str(out)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime
    doc = json.loads(out.read_text())
    print(f"check: {wall:.1f} s wall, {cpu:.1f} s CPU, {peak_mb:.0f} MB peak RSS, exit {proc.returncode}, findings {doc['counts']}")
    print(f"load average {os.getloadavg()[0]:.2f}; targets: <= 10 s, <= 2048 MB")


if __name__ == "__main__":
    main()
