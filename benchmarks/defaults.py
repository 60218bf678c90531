"""The headline benchmark: what users run (every default processor, automatic worker count),
ours against the public reference, side by side in one run. One command prints the table.

Sides (all with the bioio loader unless ``--loader`` says otherwise):

* ``ours``    — our ``pixel-patrol process`` with its defaults (workers chosen automatically);
* ``ours-w1`` — ours with ``--max-workers 1`` (the automatic choice must not be slower than
  this by more than 10 %);
* ``ref``     — the reference with its defaults.

Two tables: ``defaults`` (each tool's default processors: the headline) and ``basic``
(``raster-basic`` + ``raster-histogram`` on both sides: like with like). Subsets come from
``make_dataset.py``'s folder; ``one_file``, ``small300`` and ``small500`` are cut from small2d.
Sides alternate in a rotating order on every repeat, each run starts from a warm page cache and
runs under ``memwatch.py`` (wall, CPU of the whole process tree, peak PSS, CPU other processes
used). Every run is appended to ``--results`` as a JSON line.

Run it on a quiet machine with one command::

    uv run --no-sync python benchmarks/defaults.py --data /tmp/pp-bench-data --repeat 3

It prints ``uptime`` before and after: figures taken under load hold as ratios only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import compare  # noqa: E402

SUBSETS = ("one_file", "small300", "small500", "small2d", "stacks", "big", "zarr")
SIDES = ("ours", "ours-w1", "ref")
BASIC = ("raster-basic", "raster-histogram")
TARGETS = {  # subset: (figure, "<=" or ">=", limit) — checked against the defaults table
    "one_file": ("ours wall s", "<=", 1.0),
    "small500": ("ref wall / ours wall", ">=", 8.0),
    "small2d": ("ref wall / ours wall", ">=", 10.0),
    "stacks": ("ours wall / ref wall", "<=", 0.2),
    "big": ("ours wall / ref wall", "<=", 0.2),
    "zarr": ("ours wall / ref wall", "<=", 0.2),
}


def cut_subsets(data: Path, scratch: Path) -> dict[str, tuple[Path, int]]:
    """Folders and file counts of every subset (the small ones are copied out of small2d)."""
    manifest = json.loads((data / "manifest.json").read_text())["subsets"]
    out = {name: (data / name, manifest[name]["files"]) for name in manifest}
    small = sorted(manifest["small2d"]["paths"])
    for name, n in (("one_file", 1), ("small300", 300), ("small500", 500)):
        folder = scratch / "subsets" / name
        if n == 1:
            picked = [next(p for p in small if p.endswith(".png"))]
        else:  # the same share of each condition and format
            groups: dict[str, list[str]] = {}
            for p in small:
                groups.setdefault(f"{Path(p).parent}{Path(p).suffix}", []).append(p)
            picked = [p for g in groups.values() for p in g[: n // len(groups)]]
        if not folder.exists() or sum(1 for _ in folder.rglob("*.*")) != len(picked):
            shutil.rmtree(folder, ignore_errors=True)
            for p in picked:
                dst = folder / Path(p).relative_to("small2d") if p.startswith("small2d") else folder / p
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(data / p, dst)
        out[name] = (folder, len(picked))
    return out


def command(side: str, args: argparse.Namespace, folder: Path, out: Path, table: str) -> list[str]:
    base = [str(Path(args.ref) / "bin" / "pixel-patrol")] if side == "ref" else args.ours_cmd
    cmd = [*base, "process", str(folder), "-o", str(out), "--loader", args.loader]
    if side == "ours-w1":
        cmd += ["--max-workers", "1"]
    if table == "basic":
        for p in BASIC:
            cmd += ["--processors-include", p]
    return cmd


def run_one(side: str, subset: str, folder: Path, files: int, table: str, rep: int, args: argparse.Namespace) -> dict[str, Any]:
    stem = args.scratch / f"{table}_{subset}_{side}_r{rep}"
    out, log = stem.with_suffix(".parquet"), stem.with_suffix(".log")
    out.unlink(missing_ok=True)
    compare.warm_cache(folder)
    side_obj = compare.Side(side, [], [], [], compare.clean_env(), str(REPO))
    figures = compare.watched(command(side, args, folder, out, table), side_obj, log, args)
    figures.update(compare.parquet_figures(out))
    problems = compare.judge(figures, compare.Subset(subset, folder, files, 0))
    figures.update(ok=not problems, problems=problems, side=side, subset=subset, table=table, rep=rep)
    if problems:
        figures["error_tail"] = compare.log_tail(log)
    out.unlink(missing_ok=True)
    return figures


def median(runs: list[dict[str, Any]], key: str) -> float | None:
    vals = [r[key] for r in runs if r["ok"] and r.get(key) is not None]
    return statistics.median(vals) if vals else None


def summarise(runs: list[dict[str, Any]], table: str, subsets: list[str], sides: list[str]) -> None:
    print(f"\n== {table} processors ==")
    head = f"{'subset':9s}" + "".join(f"{s + ' wall':>13s}{s + ' CPU':>12s}{'PSS MB':>8s}" for s in sides)
    print(head + f"{'ref/ours':>9s}{'CPU r/o':>8s}{'auto/w1':>8s}{'other%':>7s}")
    for subset in subsets:
        sel = {s: [r for r in runs if r["table"] == table and r["subset"] == subset and r["side"] == s] for s in sides}
        wall = {s: median(sel[s], "wall_s") for s in sides}
        cpu = {s: median(sel[s], "tree_cpu_s") for s in sides}
        pss = {s: max((r["peak_pss_mb"] or 0 for r in sel[s] if r["ok"]), default=None) for s in sides}
        other = max((r["other_cpu_pct"] for rs in sel.values() for r in rs), default=0.0)
        line = f"{subset:9s}"
        for s in sides:
            line += f"{compare.fmt(wall[s], '.2f'):>13s}{compare.fmt(cpu[s], '.2f'):>12s}{compare.fmt(pss[s], '.0f'):>8s}"
        speed = compare.ratio(wall.get("ref"), wall.get("ours"))
        cpu_r = compare.ratio(cpu.get("ref"), cpu.get("ours"))
        auto = compare.ratio(wall.get("ours"), wall.get("ours-w1"))
        print(line + f"{compare.fmt(speed, '.2f'):>9s}{compare.fmt(cpu_r, '.2f'):>8s}{compare.fmt(auto, '.2f'):>8s}{other:7.0f}")
        failed = [r for rs in sel.values() for r in rs if not r["ok"]]
        for r in failed:
            print(f"    FAILED {r['side']} r{r['rep']}: {'; '.join(r['problems'])}")
        if table == "defaults" and subset in TARGETS:
            print("    target: " + target_line(subset, wall))


def target_line(subset: str, wall: dict[str, float | None]) -> str:
    what, op, limit = TARGETS[subset]
    ours, ref = wall.get("ours"), wall.get("ref")
    if what == "ours wall s":
        value = ours
    elif what == "ref wall / ours wall":
        value = ref / ours if ours and ref else None
    else:
        value = ours / ref if ours and ref else None
    ok = value is not None and (value <= limit if op == "<=" else value >= limit)
    return f"{what} = {compare.fmt(value, '.2f')} (target {op} {limit:g}): {'met' if ok else 'NOT met'}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Defaults headline benchmark, ours vs the reference.")
    p.add_argument("--data", type=Path, required=True, help="make_dataset.py folder (manifest.json)")
    p.add_argument("--subsets", nargs="+", choices=SUBSETS, default=list(SUBSETS))
    p.add_argument("--tables", nargs="+", choices=("defaults", "basic"), default=["defaults", "basic"])
    p.add_argument("--sides", nargs="+", choices=SIDES, default=list(SIDES))
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--loader", default="bioio")
    p.add_argument("--ref", default="/work/ref-venv")
    p.add_argument("--ours-cmd", default=str(REPO / ".venv" / "bin" / "pixel-patrol"))
    p.add_argument("--interval", type=float, default=0.25)
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--scratch", type=Path, default=Path("/tmp/pp-defaults-runs"))
    p.add_argument("--results", type=Path, default=HERE / "results" / "defaults.jsonl")
    args = p.parse_args(argv)
    args.ours_cmd = args.ours_cmd.split()
    args.scratch.mkdir(parents=True, exist_ok=True)
    folders = cut_subsets(args.data, args.scratch)
    up = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"uptime before: {up}\nours: {compare.git_revision()}  reference: {args.ref}", flush=True)
    runs: list[dict[str, Any]] = []
    for rep in range(args.repeat):
        for table in args.tables:
            for subset in args.subsets:
                folder, files = folders[subset]
                k = (rep + SUBSETS.index(subset)) % len(args.sides)
                for side in args.sides[k:] + args.sides[:k]:
                    r = run_one(side, subset, folder, files, table, rep, args)
                    r["when"] = time.strftime("%Y-%m-%dT%H:%M:%S")
                    r["load"] = os.getloadavg()
                    runs.append(r)
                    args.results.parent.mkdir(parents=True, exist_ok=True)
                    with args.results.open("a") as f:
                        f.write(json.dumps({"ours_rev": compare.git_revision(), **r}) + "\n")
                    status = "ok" if r["ok"] else "FAILED " + "; ".join(r["problems"])
                    print(f"  r{rep} {table:8s} {subset:9s} {side:8s} wall {r['wall_s']:7.2f} s  cpu {r['tree_cpu_s']:7.2f} s"
                          f"  other {r['other_cpu_pct']:4.0f}%  {status}", flush=True)
    for table in args.tables:
        summarise(runs, table, args.subsets, args.sides)
    up = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"\nuptime after: {up}")
    print("wall/CPU: medians of successful runs; ref/ours = reference wall / ours (speed-up); CPU r/o = the same"
          " for tree CPU; auto/w1 = ours automatic / ours --max-workers 1 (target ≤ 1.10); other% = largest CPU"
          " share other processes used during these runs (above ~10 % the wall times are inflated)")
    return 0 if all(r["ok"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
