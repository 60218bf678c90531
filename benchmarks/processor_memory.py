"""Peak memory of a worker against image size, per processor and with every processor.

For each image size (square uint16 planes, uncompressed TIFF), one ``pixel-patrol process``
runs in a fresh process per processor (and once with all of them) with ``--max-workers 1``,
so the process is the worker (plus a small coordinator). Its peak resident memory
(``ru_maxrss`` of the child) is printed next to what the worker-count formula reserves per
worker (``runner.BASE_WORKER_MB + runner.BUDGET_MULTIPLE * --mb-per-task``, the figure
``pixel-patrol process`` prints at start); the tool promises to stay within it at any size.

A baseline row ("file facts") runs the same command without a loader: the interpreter and
the imports alone. Images are written by a separate process, and this one imports nothing
heavy: on Linux a child's peak memory includes the footprint of the process that started it.

Run with ``uv run --no-sync python benchmarks/processor_memory.py`` (default sizes 1k, 4k, 8k
and 16k; ``--sizes 1024 4096`` for fewer, ``--mb-per-task 128`` for another budget).
The 16k image needs 512 MB of disk in ``--workdir`` and about 2 GB of free memory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROCESSORS = ("raster-basic", "raster-histogram", "thumbnail", "raster-quality", "raster-compression")


def write_image(folder: Path, side: int) -> Path:
    """An uncompressed uint16 plane with camera-like structure, written row block by block."""
    import numpy as np
    import tifffile

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"plane_{side}.tif"
    if path.exists():
        return path
    rng = np.random.default_rng(side)
    rows = max(1, min(side, (64 << 20) // (2 * side)))

    def blocks() -> object:
        for y in range(0, side, rows):
            n = min(rows, side - y)
            yy = np.arange(y, y + n)[:, None]
            xx = np.arange(side)[None, :]
            smooth = 1000 + 600 * np.sin(xx / 97.0) * np.cos(yy / 131.0)
            spots = ((xx // 256 + yy // 256) % 2) * 900
            yield (smooth + spots + rng.normal(0, 30, (n, side))).clip(0, 65535).astype(np.uint16)

    tifffile.imwrite(path, blocks(), shape=(side, side), dtype=np.uint16, rowsperstrip=rows)
    return path


def peak_rss_mb(cmd: list[str]) -> tuple[float, float, int]:
    """Peak RSS (MB) of the process running ``cmd``, its wall time, and its exit code."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode:
        print(err[-2000:], file=sys.stderr)
    return usage.ru_maxrss / 1024, time.perf_counter() - t0, proc.returncode


def command(folder: Path, out: Path, procs: list[str] | None, mb: float) -> list[str]:
    """The ``pixel-patrol process`` command line for one measurement."""
    cmd = [sys.executable, "-c", "from pixel_patrol_base.cli import main; main()", "process"]
    cmd += [str(folder), "-o", str(out), "--max-workers", "1", "--mb-per-task", f"{mb:g}"]
    if procs is None:
        return cmd
    cmd += ["--loader", "tifffile"]
    for p in procs:
        cmd += ["--processors-include", p]
    return cmd


def reserved_mb(mb: float) -> float:
    """Memory the worker-count formula sets aside per worker (asked of a child process)."""
    code = (
        "from pixel_patrol_base import runner as r;"
        f"print(r.BASE_WORKER_MB + r.BUDGET_MULTIPLE * {mb!r})"
    )
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    """Parse options, write the images, measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096, 8192, 16384])
    parser.add_argument("--mb-per-task", type=float, default=512.0)
    parser.add_argument("--workdir", type=Path, default=None, help="where the images go")
    parser.add_argument("--keep", action="store_true", help="keep the images")
    parser.add_argument("--write", type=Path, help=argparse.SUPPRESS)  # child: write one image
    args = parser.parse_args()
    if args.write is not None:
        write_image(args.write, args.sizes[0])
        return
    work = args.workdir or Path(tempfile.mkdtemp(prefix="pp-memory-"))
    limit = reserved_mb(args.mb_per_task)
    print(f"--mb-per-task {args.mb_per_task:g}: reserved per worker {limit:.0f} MB")
    print(f"{'image':>12s} {'processors':22s} {'peak MB':>9s} {'x reserved':>10s} {'wall s':>7s}")
    try:
        for side in args.sizes:
            folder = work / f"s{side}"
            subprocess.run(
                [sys.executable, __file__, "--write", str(folder), "--sizes", str(side)], check=True
            )
            runs: list[tuple[str, list[str] | None]] = [("file facts", None)]
            runs += [(p, [p]) for p in PROCESSORS] + [("all", list(PROCESSORS))]
            for label, procs in runs:
                out = work / f"out_{side}_{label}.parquet"
                rss, wall, code = peak_rss_mb(command(folder, out, procs, args.mb_per_task))
                flag = "" if code == 0 else f"  exit {code}"
                if rss > limit:
                    flag += "  OVER"
                print(f"{side:>6d}x{side:<5d} {label:22s} {rss:9.0f} {rss / limit:10.2f} {wall:7.1f}{flag}")
                out.unlink(missing_ok=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
