"""How big and how fast is the HTML report of a 100,000-image report?

Writes a synthetic report with the real schema (the bioio loader's and every installed
processor's columns) straight from Arrow: half the images are 2-D, half Z/C stacks (5 × 2) with
their slice rows, four conditions, 16-bit data with per-image histogram ranges, a different
thumbnail for every image. Then times ``pixel-patrol report`` on it, and opens the page in headless
Chromium (Debian's ``chromium``) until every plot is drawn.

Targets: HTML ≤ 25 MB, written in ≤ 30 s, opened with all plots drawn in ≤ 10 s.

Run: ``uv run --no-sync python benchmarks/report_speed.py [--images 100000] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pixel_patrol_base.plugins import get_loader, select_processors
from pixel_patrol_base.schema import report_columns, to_schema

BATCH = 5_000
CONDITIONS = ("control", "drug_a", "drug_b", "washout")
Z, C = 5, 2


def schema() -> pa.Schema:
    """The schema ``pixel-patrol process --loader bioio`` writes with every installed processor."""
    return to_schema(report_columns(get_loader("bioio"), select_processors(), {}))


def _rows_of(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row: image number, obs_level, dim_z, dim_c (-1 = spans the axis)."""
    img, lvl, dz, dc = [], [], [], []
    for i, s in enumerate(stack):
        img.append(i), lvl.append(0), dz.append(-1), dc.append(-1)
        if not s:
            continue
        for z in range(Z):
            img.append(i), lvl.append(1), dz.append(z), dc.append(-1)
        for c in range(C):
            img.append(i), lvl.append(1), dz.append(-1), dc.append(c)
        for z in range(Z):
            for c in range(C):
                img.append(i), lvl.append(2), dz.append(z), dc.append(c)
    return np.array(img), np.array(lvl, np.int8), np.array(dz), np.array(dc)


def _thumbs(rng: np.random.Generator, n: int) -> list[bytes]:
    """``n`` different 64×64 RGBA previews: a few bright cells on a noisy dark background."""
    yy, xx = np.mgrid[:64, :64].astype(np.float32)
    grey = rng.normal(20, 6, (n, 64, 64)).astype(np.float32)
    for _ in range(4):
        cy, cx = (rng.uniform(4, 60, (2, n, 1, 1))).astype(np.float32)
        r2 = rng.uniform(20, 120, (n, 1, 1)).astype(np.float32)
        grey += 220 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / r2)
    g = grey.clip(0, 255).astype(np.uint8)
    rgba = np.stack([g, g, g, np.full_like(g, 255)], axis=-1)
    return [rgba[i].tobytes() for i in range(n)]


def batch(sch: pa.Schema, start: int, n: int, rng: np.random.Generator) -> pa.Table:
    """Rows of images ``start`` … ``start + n - 1``."""
    ids = np.arange(start, start + n)
    thumbs = _thumbs(rng, n)
    stack = ids % 2 == 1
    img, lvl, dz, dc = _rows_of(stack)
    gid = ids[img]
    cond = np.array(CONDITIONS)[gid % len(CONDITIONS)]
    is_stack = stack[img]
    zsz = np.where(is_stack, np.where(dz >= 0, 1, Z), None)
    csz = np.where(is_stack, np.where(dc >= 0, 1, C), None)
    npx = 256 * 256 * np.where(is_stack, np.where(dz >= 0, 1, Z) * np.where(dc >= 0, 1, C), 1)
    bright = 300 + 150 * (gid % 4) + rng.gamma(4, 40, len(gid))
    top = np.minimum(4095, bright * rng.uniform(4, 8, len(gid))).round()
    low = rng.integers(90, 110, len(gid)).astype(float)
    hist = rng.poisson(np.exp(-np.linspace(0, 6, 256)) * 2000, (len(gid), 256)).astype(np.int64)
    data = {
        "imported_path": [f"/data/screen/{c}/plate{g // 1000:03d}/img_{g:06d}.tif" for c, g in zip(cond, gid, strict=True)],
        "obs_level": lvl,
        "file_name": [f"img_{g:06d}.tif" for g in gid],
        "file_extension": ["tif"] * len(gid),
        "file_size": np.where(stack[img], 2 * 256 * 256 * Z * C, 2 * 256 * 256) + 1200,
        "size_readable": ["1.3 MB"] * len(gid),
        "path": cond,
        "modification_date": pa.array((1.7e15 + gid * 6e7).astype(np.int64), pa.timestamp("us", tz="UTC")),
        "dim_z": pa.array(dz, mask=dz < 0), "dim_c": pa.array(dc, mask=dc < 0),
        "dim_order": np.where(is_stack, "ZCYX", "YX"), "dtype": ["uint16"] * len(gid),
        "ndim": np.where(is_stack, 4, 2), "n_images": np.ones(len(gid), np.int32),
        "Z_size": pa.array(zsz, pa.int64()), "C_size": pa.array(csz, pa.int64()),
        "Y_size": np.full(len(gid), 256), "X_size": np.full(len(gid), 256), "num_pixels": npx,
        "reader": ["tifffile"] * len(gid), "pixel_size_X": np.full(len(gid), 0.108), "pixel_size_Y": np.full(len(gid), 0.108),
        "pixel_size_unit": ["µm"] * len(gid), "significant_bits": np.full(len(gid), 12, np.int32),
        "min_intensity": low, "max_intensity": top, "mean_intensity": bright, "std_intensity": bright * rng.uniform(0.2, 0.5, len(gid)),
        "finite_pixel_count": npx,
        "histogram_min": low, "histogram_max": low + 256 * np.ceil((top - low + 1) / 256), "histogram_nan_count": np.zeros(len(gid), np.int64),
        "histogram_counts": pa.FixedSizeListArray.from_arrays(pa.array(hist.ravel()), 256),
        "michelson_contrast": rng.beta(8, 2, len(gid)), "mscn_variance": rng.gamma(3, 0.1, len(gid)),
        "texture_heterogeneity": rng.gamma(6, 0.12, len(gid)), "laplacian_variance": rng.lognormal(6, 1.2, len(gid)),
        "blocking_index": rng.normal(1, 0.01, len(gid)), "ringing_index": rng.normal(1, 0.05, len(gid)),
        "count_at_max": rng.poisson(3, len(gid)), "count_at_min": rng.poisson(3, len(gid)),
        "thumbnail": pa.array([thumbs[g - start] if lv == 0 else None for g, lv in zip(gid, lvl, strict=True)], pa.binary()),
        "thumbnail_norm_min": low, "thumbnail_norm_max": top, "thumbnail_dtype": ["uint16"] * len(gid),
    }
    cols = []
    for f in sch:
        v = data.get(f.name)
        cols.append(pa.nulls(len(gid), f.type) if v is None else pa.array(v, f.type) if not isinstance(v, pa.Array) else v.cast(f.type))
    return pa.Table.from_arrays(cols, schema=sch)


def write_report(path: Path, images: int) -> int:
    """Write the synthetic report; returns its number of rows."""
    sch = schema().with_metadata({b"pixel_patrol.name": b'"synthetic-100k"', b"pixel_patrol.paths": b'["control", "drug_a", "drug_b", "washout"]'})
    rng = np.random.default_rng(1)
    rows = 0
    with pq.ParquetWriter(path, sch, compression="zstd") as w:
        for start in range(0, images, BATCH):
            t = batch(sch, start, min(BATCH, images - start), rng)
            w.write_table(t, row_group_size=2048)
            rows += t.num_rows
    return rows


def open_in_chromium(html: Path, profile: Path) -> float:
    """Seconds from navigation until the page says every plot is drawn."""
    from playwright.sync_api import sync_playwright

    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", "--disable-quic"]
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(str(profile), executable_path="/usr/bin/chromium", headless=True, args=flags,
                                                    viewport={"width": 1400, "height": 900})
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        t0 = time.perf_counter()
        page.goto(html.as_uri())
        page.wait_for_selector("body[data-ready='1']", timeout=120_000)
        dt = time.perf_counter() - t0
        plots = page.eval_on_selector_all(".pp-plot", "els => [els.length, els.filter(e => e.dataset.drawn === '1').length]")
        ctx.close()
    print(f"  plots drawn: {plots[1]} of {plots[0]}; page errors: {errors or 'none'}")
    return dt


def main() -> None:
    """Generate, render, open; print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, default=None, help="folder to keep the report and page in")
    ap.add_argument("--reuse", action="store_true", help="use the report already in --keep instead of writing it again")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="report-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    report, html = work / "report.parquet", work / "report.html"
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} on {os.cpu_count()} cores")
    t0 = time.perf_counter()
    if args.reuse and report.is_file():
        rows = pq.ParquetFile(report).metadata.num_rows
    else:
        rows = write_report(report, args.images)
    print(f"synthetic report: {args.images:,} images, {rows:,} rows, {report.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.1f} s")
    cmd = [sys.executable, "-m", "pixel_patrol_base", "report", str(report), "-o", str(html)]
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True)
    write_s = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_mb = after.ru_maxrss / 1e3
    size_mb = html.stat().st_size / 1e6
    open_s = open_in_chromium(html, work / "profile")
    print(f"HTML size   {size_mb:6.1f} MB   (target <= 25 MB)")
    print(f"write time  {write_s:6.1f} s    (target <= 30 s, whole command incl. start-up and check; CPU {cpu_s:.1f} s, peak RSS {peak_mb:.0f} MB)")
    print(f"open time   {open_s:6.1f} s    (target <= 10 s, until every plot is drawn)")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
