"""Per-file loader overhead: open + headers + full read, median milliseconds per file.

Files: a 256x256 uint16 TIFF, a 256x256 uint8 PNG and a small OME-Zarr (v0.4, 1x256x256),
written to a temporary folder. Loaders: ``tifffile`` (TIFF), ``bioio`` (all three) and ``zarr``
(Zarr). When a Python 3.12 venv with the public ``pixel-patrol==1.0.1`` exists at
/work/ref-venv (or $PIXEL_PATROL_REF_PYTHON points to its python), the same files are timed
with its loaders in a subprocess and the ratio ours / reference is printed.

A second figure, "first file", is the wall time of a fresh interpreter from importing the
loader to having read its first file (median of ``--cold`` runs): what each worker process
pays once, dominated by imports (bioio's xarray/dask layer costs seconds there).

Usage: ``uv run --no-sync python benchmarks/loader_overhead.py [--repeat 40] [--cold 3]``.
Prints figures only; it is not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REF_PYTHON = Path(os.environ.get("PIXEL_PATROL_REF_PYTHON", "/work/ref-venv/bin/python"))

REF_SNIPPET = r"""
import json, statistics, sys, time
from pathlib import Path
import numpy as np
from pixel_patrol_loader_bio.plugins.loaders.bioio_loader import BioIoLoader
from pixel_patrol_loader_bio.plugins.loaders.tifffile_loader import TifffileLoader
jobs, repeat = json.loads(sys.argv[1]), int(sys.argv[2])
out = {}
for name, path in jobs:
    loader = {"bioio": BioIoLoader, "tifffile": TifffileLoader}[name]()
    def once():
        loader.read_header(Path(path))
        data = loader.load(Path(path)).data
        np.asarray(data.compute() if hasattr(data, "compute") else data)
    once()
    times = []
    for _ in range(repeat):
        t = time.perf_counter(); once(); times.append(time.perf_counter() - t)
    out[f"{name}:{path}"] = statistics.median(times) * 1e3
print(json.dumps(out))
"""


COLD_OURS = r"""
import sys, time
t = time.perf_counter()
import importlib
module, name, path = sys.argv[1:4]
loader = getattr(importlib.import_module(module), name)()
with loader.open(path) as f:
    for i, _header in enumerate(f.images):
        f.read(i)
print((time.perf_counter() - t) * 1e3)
"""

COLD_REF = r"""
import sys, time
t = time.perf_counter()
from pathlib import Path
import numpy as np
name, path = sys.argv[1:3]
if name == "bioio":
    from pixel_patrol_loader_bio.plugins.loaders.bioio_loader import BioIoLoader as Loader
else:
    from pixel_patrol_loader_bio.plugins.loaders.tifffile_loader import TifffileLoader as Loader
loader = Loader()
loader.read_header(Path(path))
data = loader.load(Path(path)).data
np.asarray(data.compute() if hasattr(data, "compute") else data)
print((time.perf_counter() - t) * 1e3)
"""

OUR_CLASSES = {
    "tifffile": ("pixel_patrol_loader_bio.tifffile_loader", "TifffileLoader"),
    "bioio": ("pixel_patrol_loader_bio.bioio_loader", "BioioLoader"),
    "zarr": ("pixel_patrol_loader_bio.zarr_loader", "ZarrLoader"),
}


def write_files(folder: Path) -> dict[str, Path]:
    """The three sample files, written with tifffile, Pillow and zarr."""
    import tifffile
    import zarr
    from PIL import Image

    rng = np.random.default_rng(0)
    tif = folder / "plane.tif"
    tifffile.imwrite(tif, rng.integers(0, 65535, (256, 256), dtype=np.uint16))
    png = folder / "plane.png"
    Image.fromarray(rng.integers(0, 255, (256, 256), dtype=np.uint8)).save(png)
    store = folder / "plane.ome.zarr"
    root = zarr.open_group(str(store), mode="w", zarr_format=2)
    root.create_array(
        "0", data=rng.integers(0, 255, (1, 256, 256), dtype=np.uint8), chunks=(1, 256, 256)
    )
    axes: list[Any] = [{"name": "c", "type": "channel"}, {"name": "y", "type": "space", "unit": "micrometer"},
            {"name": "x", "type": "space", "unit": "micrometer"}]  # fmt: skip
    datasets: list[Any] = [
        {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 0.5, 0.5]}]}
    ]
    root.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": datasets}]
    return {"TIFF": tif, "PNG": png, "OME-Zarr": store}


def time_ours(loader: object, path: Path, repeat: int) -> float:
    """Median ms of open + headers + full read of every image."""

    def once() -> None:
        with loader.open(str(path)) as f:  # type: ignore[attr-defined]
            for i, _header in enumerate(f.images):
                f.read(i)

    once()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        once()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def time_reference(jobs: list[tuple[str, str]], repeat: int) -> dict[str, float]:
    """Same measurement with the reference's loaders, in its own interpreter."""
    if not REF_PYTHON.exists() or not jobs:
        return {}
    proc = subprocess.run(
        [str(REF_PYTHON), "-c", REF_SNIPPET, json.dumps(jobs), str(repeat)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if proc.returncode != 0:
        print(f"reference run failed: {proc.stderr.strip().splitlines()[-1:]}")
        return {}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def time_cold(argv: list[str], runs: int) -> float | None:
    """Median ms a fresh interpreter running ``argv`` reports (``None`` if it fails)."""
    times = []
    for _ in range(runs):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            return None
        times.append(float(proc.stdout.strip().splitlines()[-1]))
    return statistics.median(times) if times else None


def cold_figures(plan: list[tuple[str, str]], files: dict[str, Path], runs: int) -> dict:
    """First-file ms in a fresh process, ours and (where it has the loader) the reference's."""
    out: dict[tuple[str, str, str], float | None] = {}
    for name, kind in plan if runs else []:
        path = str(files[kind])
        out["ours", name, kind] = time_cold(
            [sys.executable, "-c", COLD_OURS, *OUR_CLASSES[name], path], runs
        )
        if REF_PYTHON.exists() and name in ("tifffile", "bioio"):
            out["ref", name, kind] = time_cold([str(REF_PYTHON), "-c", COLD_REF, name, path], runs)
    return out


def fmt(ms: float | None) -> str:
    return f"{ms:10.2f}" if ms else f"{'-':>10}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40, help="timed repetitions per file")
    parser.add_argument(
        "--cold", type=int, default=3, help="fresh-process runs per file for 'first file' (0: skip)"
    )
    args = parser.parse_args()

    from pixel_patrol_loader_bio.bioio_loader import BioioLoader
    from pixel_patrol_loader_bio.tifffile_loader import TifffileLoader
    from pixel_patrol_loader_bio.zarr_loader import ZarrLoader

    with tempfile.TemporaryDirectory() as tmp:
        files = write_files(Path(tmp))
        plan = [("tifffile", "TIFF"), ("bioio", "TIFF"), ("bioio", "PNG"), ("bioio", "OME-Zarr"),
                ("zarr", "OME-Zarr")]  # fmt: skip
        loaders = {"tifffile": TifffileLoader(), "bioio": BioioLoader(), "zarr": ZarrLoader()}
        ours = {(n, k): time_ours(loaders[n], files[k], args.repeat) for n, k in plan}
        ref_jobs = [
            (n, str(files[k])) for n, k in plan if n in ("tifffile", "bioio") and k != "OME-Zarr"
        ]
        ref_jobs.append(("bioio", str(files["OME-Zarr"])))
        ref = time_reference(ref_jobs, args.repeat)
        cold = cold_figures(plan, files, args.cold)

    print(f"{'':<20}{'per file (warm)':^30}{'first file, fresh process':^30}")
    head = f"{'ours ms':>10}{'ref ms':>10}{'ours/ref':>10}"
    print(f"{'loader':<10}{'file':<10}{head}{head}")
    for (name, kind), ms in ours.items():
        r = ref.get(f"{name}:{files[kind]}")
        c_ours, c_ref = cold.get(("ours", name, kind)), cold.get(("ref", name, kind))
        ratio = f"{c_ours / c_ref:10.2f}" if c_ours and c_ref else f"{'-':>10}"
        warm_ratio = f"{ms / r:10.2f}" if r else f"{'-':>10}"
        print(f"{name:<10}{kind:<10}{ms:10.2f}{fmt(r)}{warm_ratio}{fmt(c_ours)}{fmt(c_ref)}{ratio}")
    if not ref:
        print(f"(no reference timings: {REF_PYTHON} not found or failed)")


if __name__ == "__main__":
    main()
