"""Time a full scan against an incremental re-scan of the same, unchanged folder.

``--incremental`` should only walk the folder, compare size and modification time with the
previous report and copy rows; this prints both wall times and their ratio.

    uv run --no-sync python benchmarks/incremental.py /tmp/pp-bench-data/small2d --loader bioio
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq


def run(cmd: list[str]) -> float:
    """Wall seconds of one command (its output is discarded; failures stop the script)."""
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"command failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr}")
    return time.perf_counter() - t0


def main() -> None:
    """Full scan, then incremental re-scans; print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, help="folder to scan")
    ap.add_argument("--loader", default="bioio")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="incremental re-scans to time")
    ap.add_argument("--pixel-patrol", default=str(Path(sys.executable).with_name("pixel-patrol")))
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix="pp-incr-")) / "report.parquet"
    base = [args.pixel_patrol, "process", str(args.data), "-o", str(out), "--loader", args.loader, "--max-workers", str(args.workers)]
    full = run(base)
    rows = pq.ParquetFile(out).metadata.num_rows
    again = [run([*base, "--incremental"]) for _ in range(args.repeat)]
    best = min(again)
    print(f"data: {args.data} ({rows} rows), loader {args.loader}, {args.workers} workers")
    print(f"full scan:          {full:8.2f} s")
    print(f"incremental re-scan:{best:8.2f} s (best of {args.repeat}: {', '.join(f'{t:.2f}' for t in again)})")
    print(f"speed-up:           {full / best:8.1f}x")


if __name__ == "__main__":
    main()
