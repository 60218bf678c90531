"""How our `pixel-patrol process` scales with the number of files.

Two kinds of dataset, generated on first use under ``--root`` (nested folders of 1,000 files):

* ``images``: tiny PNG images (32x32 uint8, all different), processed with the bioio
  loader and every default processor;
* ``facts``: files of a few bytes, scanned without a loader (file facts only).

For each run it reports the wall time, files/s, and per phase (discovery, processing, final
merge) the time and the peak resident memory of the coordinator and of all worker processes
together, sampled every ``--interval`` seconds. The tool's debug log (``--log-file``) gives the
phase boundaries and the CPU seconds per role: the coordinator's own work (without tasks it ran
itself) and the tasks' work. Dividing by the file count gives CPU per file per role, from
which the number of workers one coordinator can keep busy is read off:
``workers per coordinator = task CPU per file / coordinator CPU per file``.

Example (the figures in docs/benchmarks.md)::

    uv run --no-sync python benchmarks/scale.py --root /tmp/pp-scale \\
        --images 10000 200000 --facts 10000 1000000 --repeat 1

Generated data can be large (1,000,000 files take about 4 GB of disk for their inodes and
blocks); ``--clean`` deletes each dataset after its runs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PER_FOLDER = 1000


def png_bytes(rng: Any) -> bytes:
    """One tiny PNG (32x32 uint8: a gradient plus noise, so no two files are alike)."""
    import numpy as np
    from PIL import Image

    ramp = np.add.outer(np.arange(32), np.arange(32)).astype(np.float64) * rng.uniform(1, 4)
    pixels = np.clip(ramp + rng.normal(0, 8, (32, 32)), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def generate(folder: Path, kind: str, count: int) -> None:
    """Write ``count`` files in folders of ``PER_FOLDER`` (skipped when already complete)."""
    marker = folder / ".complete"
    if marker.exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    import numpy as np

    rng = np.random.default_rng(count)
    suffix = ".png" if kind == "images" else ".txt"
    t0 = time.perf_counter()
    for i in range(count):
        sub = folder / f"d{i // PER_FOLDER:05d}"
        if i % PER_FOLDER == 0:
            sub.mkdir(parents=True)
        with open(sub / f"f{i:07d}{suffix}", "wb") as f:
            f.write(png_bytes(rng) if kind == "images" else b"x%d\n" % i)
    marker.write_text(str(count))
    print(f"generated {count:,} {kind} files in {folder} ({time.perf_counter() - t0:.0f} s)", flush=True)


@dataclass
class Sampler:
    """Samples the coordinator's and its children's resident memory with timestamps."""

    pid: int
    interval: float
    samples: list[tuple[float, int, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        root = psutil.Process(self.pid)
        while not self._stop.is_set():
            try:
                coord = root.memory_info().rss
                kids = 0
                for c in root.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        kids += c.memory_info().rss
                self.samples.append((time.time(), coord, kids))
            except psutil.Error:
                break
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()


def parse_log(path: Path) -> dict[str, Any]:
    """Phase end times (epoch seconds) and the CPU line from the tool's debug log."""
    phases: dict[str, float] = {}
    phase_cpu: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for line in path.read_text(errors="replace").splitlines():
        if " phase " in line and " ended after " in line:
            stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            name = line.split(" phase ", 1)[1].split()[0]
            phases[name] = stamp
            phase_cpu[name] = float(line.rsplit("process cpu ", 1)[1].split()[0])
        elif ": cpu: coordinator " in line:
            text = line.split(": cpu: ", 1)[1]
            parts = dict(p.rsplit(" ", 1) for p in text.replace(" s,", ",").split(", "))
            cpu = {k: float(v.rstrip(" s")) for k, v in parts.items()}
    return {"phases": phases, "cpu": cpu, "phase_cpu": phase_cpu}


def peak(samples: list[tuple[float, int, int]], t0: float, t1: float) -> tuple[float, float]:
    """Peak coordinator and worker RSS (MB) in ``[t0, t1]``."""
    inside = [s for s in samples if t0 <= s[0] <= t1] or samples[-1:]
    if not inside:
        return 0.0, 0.0
    return max(s[1] for s in inside) / 2**20, max(s[2] for s in inside) / 2**20


def run_once(kind: str, folder: Path, count: int, args: argparse.Namespace, rep: int) -> dict[str, Any]:
    out = args.scratch / f"{kind}-{count}-r{rep}.parquet"
    log = out.with_suffix(".log")
    for p in (out, log):
        p.unlink(missing_ok=True)
    cmd = [*args.ours_cmd, "process", str(folder), "-o", str(out), "--log-file"]
    if kind == "images":
        cmd += ["--loader", args.loader]
    cmd += args.extra
    t_start = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
    sampler = Sampler(proc.pid, args.interval)
    thread = threading.Thread(target=sampler.run, daemon=True)
    thread.start()
    _, err = proc.communicate()
    t_end = time.time()
    sampler.stop()
    thread.join()
    if proc.returncode != 0:
        raise SystemExit(f"{kind} {count}: exit {proc.returncode}\n{err.decode(errors='replace')[-2000:]}")
    info = parse_log(log)
    ph, cpu, pcpu = info["phases"], info["cpu"], info["phase_cpu"]
    files = int(cpu.get("files", count))
    inline = cpu.get("inline tasks", 0.0)
    during = pcpu.get("processing", 0.0) - pcpu.get("start", 0.0) - inline
    merge_cpu = pcpu.get("merge", 0.0) - pcpu.get("processing", 0.0)
    bounds = {
        "discovery": (t_start, ph.get("discovery", t_end)),
        "processing": (t_start, ph.get("processing", t_end)),
        "merge": (ph.get("processing", t_end), ph.get("merge", t_end)),
    }
    result: dict[str, Any] = {
        "kind": kind, "files": files, "rep": rep, "wall_s": round(t_end - t_start, 2),
        "files_per_s": round(files / (t_end - t_start), 1),
        "phase_s": {
            "discovery": round(ph.get("discovery", t_end) - t_start, 2),
            "processing": round(ph.get("processing", t_end) - t_start, 2),
            "merge": round(ph.get("merge", t_end) - ph.get("processing", t_end), 2),
        },
        "peak_mb": {k: [round(x) for x in peak(sampler.samples, a, b)] for k, (a, b) in bounds.items()},
        "coordinator_cpu_s": cpu.get("coordinator"),
        "startup_cpu_s": pcpu.get("start"),
        "task_cpu_s": cpu.get("tasks"),
        "coordinator_ms_per_file": round(1000 * cpu.get("coordinator", 0.0) / max(files, 1), 4),
        "coordinator_processing_ms_per_file": round(1000 * during / max(files, 1), 4),
        "merge_ms_per_file": round(1000 * merge_cpu / max(files, 1), 4),
        "task_ms_per_file": round(1000 * cpu.get("tasks", 0.0) / max(files, 1), 4),
        "report_mb": round(out.stat().st_size / 2**20, 1),
    }
    out.unlink(missing_ok=True)
    return result


def cluster_line(r: dict[str, Any], workers: int = 100) -> str:
    """What one coordinator allows: its files/s ceiling, and its share of a core (and the
    run's files/s) with ``workers`` workers, each doing the tasks at this run's CPU per file.
    The coordinator's cost while files are processed is what scales; start-up and the final
    merge happen once."""
    coord, task = r["coordinator_processing_ms_per_file"], r["task_ms_per_file"]
    if coord <= 0 or task <= 0:
        return ""
    ceiling = 1000 / coord
    rate = min(workers * 1000 / task, ceiling)
    share = 100 * rate * coord / 1000
    return (
        f"    one coordinator: at most {ceiling:,.0f} files/s; {workers} workers at {task:.3f} ms/file"
        f" -> {rate:,.0f} files/s, coordinator {share:.0f} % of one core"
        f"{' (the ceiling)' if rate >= ceiling else ''}; final merge {r['merge_ms_per_file']:.4f} ms/file once"
    )


def print_row(r: dict[str, Any]) -> None:
    pm = r["peak_mb"]
    coord, task = r["coordinator_processing_ms_per_file"], r["task_ms_per_file"]
    ratio = f"{task / coord:6.0f}" if coord > 0 else "     -"
    print(
        f"{r['kind']:7s} {r['files']:>9,} {r['wall_s']:8.2f} {r['files_per_s']:9.1f} "
        f"{r['phase_s']['discovery']:7.2f} {r['phase_s']['processing']:7.2f} {r['phase_s']['merge']:6.2f} "
        f"{pm['discovery'][0]:>6}/{pm['discovery'][1]:<6} {pm['processing'][0]:>6}/{pm['processing'][1]:<6} "
        f"{pm['merge'][0]:>6} {r['startup_cpu_s']:6.2f} {coord:9.4f} {r['merge_ms_per_file']:8.4f} "
        f"{r['coordinator_ms_per_file']:8.4f} {task:8.3f} {ratio}",
        flush=True,
    )


HEADER = (
    f"{'kind':7s} {'files':>9s} {'wall s':>8s} {'files/s':>9s} {'disc@s':>7s} {'proc@s':>7s} {'merge':>6s} "
    f"{'disc MB c/w':>13s} {'proc MB c/w':>13s} {'mrg MB':>6s} {'start':>6s} {'coord ms':>9s} {'merge ms':>8s} "
    f"{'all ms':>8s} {'task ms':>8s} {'w/coord':>6s}"
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", type=Path, default=Path("/tmp/pp-scale"), help="where datasets are generated")
    p.add_argument("--images", type=int, nargs="*", default=[10_000], help="image counts to run")
    p.add_argument("--facts", type=int, nargs="*", default=[10_000], help="file-facts counts to run")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--loader", default="bioio")
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--ours-cmd", default=str(REPO / ".venv" / "bin" / "pixel-patrol"))
    p.add_argument("--extra", default="", help="extra arguments for process")
    p.add_argument("--scratch", type=Path, default=Path("/tmp/pp-scale-runs"))
    p.add_argument("--clean", action="store_true", help="delete each dataset after its runs")
    p.add_argument("--results", type=Path, default=HERE / "results" / "scale.jsonl")
    args = p.parse_args(argv)
    args.ours_cmd = args.ours_cmd.split()
    args.extra = args.extra.split()
    args.scratch.mkdir(parents=True, exist_ok=True)
    print(f"uptime: {os.getloadavg()}", flush=True)
    print("columns: disc@s/proc@s = seconds from start until discovery/processing ended; merge = s of the final")
    print("merge; MB c/w = peak RSS of the coordinator / of all workers in that phase; start = coordinator CPU s")
    print("before the first file (start-up, imports); coord ms = coordinator CPU ms per file while files are")
    print("processed (without tasks it ran itself); merge ms = per file in the final merge; all ms = everything")
    print("the coordinator did, per file; task ms = CPU ms per file of the tasks; w/coord = task ms / coord ms:")
    print("the workers one coordinator keeps busy")
    print(HEADER, flush=True)
    rows = []
    for kind, counts in (("facts", args.facts), ("images", args.images)):
        for count in counts:
            folder = args.root / f"{kind}-{count}"
            generate(folder, kind, count)
            for rep in range(args.repeat):
                r = run_once(kind, folder, count, args, rep)
                r["load"] = os.getloadavg()
                rows.append(r)
                print_row(r)
                if kind == "images":
                    print(cluster_line(r), flush=True)
                args.results.parent.mkdir(parents=True, exist_ok=True)
                with args.results.open("a") as f:
                    f.write(json.dumps({"when": time.strftime("%Y-%m-%dT%H:%M:%S"), **r}) + "\n")
            if args.clean:
                shutil.rmtree(folder, ignore_errors=True)
    print(f"uptime: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
