"""Run our ``pixel-patrol process`` and the public reference side by side.

Like is compared with like: the same subset folder, the same loader, the same
worker count, the same processors (``--processors-include`` on both sides) and
the same task budget (ours ``--mb-per-task M``; the reference has no such option,
its task budget is ``--mb-per-worker / 8``, so it gets ``--mb-per-worker 8*M``).

Every run is preceded by reading all input files (warm page cache) and runs
under ``memwatch.py``. Sides alternate (ours first on even repeats, the reference
first on odd ones) so that drift on a shared machine hits both. Each run and a
per-subset summary are appended as JSON lines to ``--results``; a table is
printed with the ratio ours/reference and each side's multiple of the lower bound
measured by ``lower_bound.py``.

Runs where other processes used more than ``CONTAMINATED_PCT`` of the machine's
CPU are marked with ``*`` and left out of the medians when clean runs exist.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SUBSETS = ("small2d", "stacks", "big", "zarr")
ONE_FILE = "one_file"
SIDES = ("ours", "ref")
CONTAMINATED_PCT = 10.0
DEFAULT_PROCESSORS = ("raster-basic", "raster-histogram")


@dataclass(slots=True)
class Side:
    """How to invoke one implementation."""

    name: str
    base_cmd: list[str]
    budget_args: list[str]
    extra: list[str]
    env: dict[str, str]
    cwd: str
    version: str = "?"

    def command(self, folder: Path, out: Path, args: argparse.Namespace) -> list[str]:
        """The full ``process`` command line for one run."""
        cmd = [*self.base_cmd, "process", str(folder), "-o", str(out), "--loader", args.loader]
        cmd += ["--max-workers", str(args.workers), *self.budget_args]
        for proc in args.processors:
            cmd += ["--processors-include", proc]
        return cmd + self.extra


@dataclass(slots=True)
class Subset:
    """A folder to process and what it contains (from the manifest)."""

    name: str
    folder: Path
    files: int
    pixel_bytes: int
    lower_bound: dict[str, Any] | None = None
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


# ---------------------------------------------------------------- set-up


def clean_env() -> dict[str, str]:
    """Environment without the calling virtualenv, so each tool sees only its own."""
    env = dict(os.environ)
    for key in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT"):
        env.pop(key, None)
    return env


def ours_command(spec: str | None) -> list[str]:
    """Our CLI: the given command, else the workspace venv's script, else ``uv run``."""
    if spec:
        return shlex.split(spec)
    script = REPO / ".venv" / "bin" / "pixel-patrol"
    return [str(script)] if script.exists() else ["uv", "run", "--no-sync", "pixel-patrol"]


def make_sides(args: argparse.Namespace) -> dict[str, Side]:
    """Both implementations with equivalent budget options."""
    ours = Side(
        "ours",
        ours_command(args.ours_cmd),
        ["--mb-per-task", str(args.mb_per_task)],
        shlex.split(args.ours_extra),
        clean_env(),
        str(REPO),
    )
    ref = Side(
        "ref",
        [str(Path(args.ref) / "bin" / "pixel-patrol")],
        ["--mb-per-worker", str(8 * args.mb_per_task)],
        shlex.split(args.ref_extra),
        clean_env(),
        str(REPO),
    )
    return {name: side for name, side in (("ours", ours), ("ref", ref)) if name in args.sides}


def preflight(side: Side) -> str | None:
    """Check the CLI starts and knows the options we pass; return an error message or None."""
    try:
        res = subprocess.run(
            [*side.base_cmd, "process", "--help"],
            capture_output=True,
            text=True,
            env=side.env,
            cwd=side.cwd,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{side.name}: cannot run {shlex.join(side.base_cmd)}: {exc}"
    if res.returncode != 0:
        tail = "\n    ".join((res.stdout + res.stderr).strip().splitlines()[-8:]) or "(no output)"
        return (
            f"{side.name}: `{shlex.join(side.base_cmd)} process --help` failed "
            f"(exit code {res.returncode}):\n    {tail}"
        )
    needed = ["--loader", "--max-workers", "--processors-include", side.budget_args[0]]
    missing = [opt for opt in needed if opt not in res.stdout]
    if missing:
        return f"{side.name}: `process --help` does not list {', '.join(missing)}"
    version = subprocess.run(
        [*side.base_cmd, "--version"], capture_output=True, text=True, env=side.env, cwd=side.cwd
    )
    side.version = (version.stdout.strip() or version.stderr.strip() or "?").splitlines()[-1]
    return None


def load_subsets(data: Path, names: list[str], one_file: bool, scratch: Path) -> list[Subset]:
    """Subset folders with their file and pixel counts from ``manifest.json``."""
    manifest_path = data / "manifest.json"
    if not manifest_path.exists():
        raise SystemExit(f"compare: {manifest_path} not found; run make_dataset.py {data} first")
    manifest = json.loads(manifest_path.read_text())["subsets"]
    missing = [n for n in names if n not in manifest]
    if missing:
        raise SystemExit(f"compare: subsets {missing} not in {manifest_path}; generate them")
    subsets = [Subset(n, data / n, manifest[n]["files"], manifest[n]["pixel_bytes"]) for n in names]
    if one_file:
        subsets.insert(0, one_file_subset(data, manifest, scratch))
    return subsets


def one_file_subset(data: Path, manifest: dict, scratch: Path) -> Subset:
    """A folder holding a single 256x256 PNG: the fixed cost of one invocation."""
    if "small2d" not in manifest:
        raise SystemExit("compare: --one-file needs the small2d subset in the manifest")
    png = next(p for p in manifest["small2d"]["paths"] if p.endswith(".png"))
    folder = scratch / ONE_FILE
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data / png, folder / Path(png).name)
    return Subset(ONE_FILE, folder, 1, 256 * 256)


# ---------------------------------------------------------------- measuring


def warm_up(sides: dict[str, Side], args: argparse.Namespace) -> None:
    """One untimed run per side on a tiny image.

    The first run after an install compiles bytecode and fills OS caches for
    hundreds of modules; that is not what we want to time.
    """
    import numpy as np
    from PIL import Image

    folder = args.scratch / "warmup"
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64).astype(np.uint8)).save(
        folder / "warmup.png"
    )
    for side in sides.values():
        out = args.scratch / f"warmup_{side.name}.parquet"
        cmd = side.command(folder, out, args)
        res = subprocess.run(cmd, env=side.env, cwd=side.cwd, capture_output=True, text=True)
        state = "ok" if res.returncode == 0 else f"failed (rc={res.returncode}), runs will show why"
        print(f"warm-up {side.name}: {state}")
        out.unlink(missing_ok=True)


def warm_cache(folder: Path) -> None:
    """Read every input byte so both sides start from the same warm page cache."""
    from lower_bound import find_images, read_all

    read_all(find_images(folder))


def drop_caches() -> None:
    """Cold-cache run: flush dirty pages and drop the page cache (needs root)."""
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def lower_bound(subset: Subset) -> dict[str, Any] | None:
    """Run ``lower_bound.py`` on the subset folder; None (with a message) if it fails."""
    cmd = [sys.executable, str(HERE / "lower_bound.py"), "--json", str(subset.folder)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        print(f"  lower bound failed for {subset.name}: {res.stderr.strip()[-500:]}")
        return None
    return json.loads(res.stdout.strip().splitlines()[-1])


def watched(cmd: list[str], side: Side, log: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run one command under memwatch and return its JSON figures."""
    result_file = log.with_suffix(".memwatch.json")
    watcher = [sys.executable, str(HERE / "memwatch.py"), "--interval", str(args.interval)]
    watcher += ["--log", str(log), "--json-out", str(result_file), "--timeout", str(args.timeout)]
    res = subprocess.run(
        [*watcher, "--", *cmd], env=side.env, cwd=side.cwd, capture_output=True, text=True
    )
    if not result_file.exists():
        raise RuntimeError(f"memwatch failed: {res.stderr.strip()[-500:]}")
    return json.loads(result_file.read_text())


def parquet_figures(path: Path) -> dict[str, Any]:
    """Rows, image rows, error rows and size of the output report.

    A tool that exits 0 but skipped or failed files did less work; these counts
    make that visible instead of letting it pass as speed.
    """
    figures: dict[str, Any] = {"rows": None, "image_rows": None, "error_rows": None}
    figures["parquet_bytes"] = path.stat().st_size if path.exists() else None
    if not path.exists():
        return figures
    try:
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        names = set(pq.read_schema(path).names)
        wanted = [c for c in ("obs_level", "error") if c in names]
        table = pq.read_table(path, columns=wanted)
        figures["rows"] = table.num_rows
        if "obs_level" in names:
            figures["image_rows"] = int(pc.sum(pc.equal(table["obs_level"], 0)).as_py() or 0)
        if "error" in names:
            figures["error_rows"] = table.num_rows - table["error"].null_count
    except Exception as exc:
        print(f"  cannot read {path}: {exc}")
    return figures


def judge(figures: dict[str, Any], subset: Subset) -> list[str]:
    """Reasons why a run does not count as a complete, successful run (empty if it does)."""
    problems = []
    if figures["returncode"] != 0:
        problems.append(f"exit code {figures['returncode']}")
    if figures["rows"] is None:
        problems.append("no readable report")
    if figures["image_rows"] is not None and figures["image_rows"] != subset.files:
        problems.append(f"{figures['image_rows']} image rows for {subset.files} files")
    if figures["error_rows"]:
        problems.append(f"{figures['error_rows']} error rows")
    return problems


def log_tail(log: Path, lines: int = 12, width: int = 300) -> str:
    """Last lines of a run's output, each cut to ``width`` characters, for failure messages."""
    if not log.exists():
        return "(no output)"
    tail = log.read_text(errors="replace").strip().splitlines()[-lines:]
    return "\n".join(line if len(line) <= width else line[:width] + " …" for line in tail)


def run_once(side: Side, subset: Subset, rep: int, args: argparse.Namespace) -> dict[str, Any]:
    """One measured run of one side on one subset."""
    stem = args.scratch / f"{side.name}_{subset.name}_w{args.workers}_r{rep}"
    out, log = stem.with_suffix(".parquet"), stem.with_suffix(".log")
    out.unlink(missing_ok=True)
    if args.cold:
        drop_caches()
    else:
        warm_cache(subset.folder)
    cmd = side.command(subset.folder, out, args)
    figures = watched(cmd, side, log, args)
    figures.update(parquet_figures(out))
    wall = figures["wall_s"]
    figures["problems"] = judge(figures, subset)
    figures["ok"] = not figures["problems"]
    figures["files_per_s"] = round(subset.files / wall, 2) if wall else None
    figures["pixel_mb_per_s"] = round(subset.pixel_bytes / 1e6 / wall, 1) if wall else None
    figures["log"] = str(log)
    if not figures["ok"]:
        figures["error_tail"] = log_tail(log)
    if not args.keep_outputs:
        out.unlink(missing_ok=True)
    return figures


# ---------------------------------------------------------------- reporting


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {
        "host": platform.node(),
        "cpu": model,
        "ncpu": os.cpu_count(),
        "mem_gb": round(mem_kb / 1024**2, 1),
        "kernel": platform.release(),
    }


def git_revision() -> str:
    """Commit of our tree, with ``+dirty`` when there are uncommitted changes."""

    def git(*a: str) -> str:
        res = subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True)
        return res.stdout.strip()

    rev = git("rev-parse", "--short", "HEAD") or "?"
    return rev + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line to the results file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(json.dumps(record) + "\n")


def clean_runs(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Successful runs, without contaminated ones when any clean run exists."""
    ok = [r for r in runs if r["ok"]]
    clean = [r for r in ok if r["other_cpu_pct"] <= CONTAMINATED_PCT]
    return clean or ok


def side_summary(runs: list[dict[str, Any]], subset: Subset) -> dict[str, Any] | None:
    """Medians (time) and maxima (memory) over one side's usable runs."""
    usable = clean_runs(runs)
    if not usable:
        return None
    wall = statistics.median(r["wall_s"] for r in usable)
    pss = [r["peak_pss_mb"] for r in usable if r["peak_pss_mb"] is not None]
    return {
        "runs": len(runs),
        "used": len(usable),
        "failed": sum(not r["ok"] for r in runs),
        "wall_s": round(wall, 2),
        "cpu_s": round(statistics.median(r["tree_cpu_s"] for r in usable), 2),
        "other_cpu_pct": max(r["other_cpu_pct"] for r in usable),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in usable),
        "peak_pss_mb": max(pss) if pss else None,
        "peak_single_rss_mb": max(r["peak_single_rss_mb"] for r in usable),
        "rows": usable[0]["rows"],
        "files_per_s": round(subset.files / wall, 2),
        "pixel_mb_per_s": round(subset.pixel_bytes / 1e6 / wall, 1),
    }


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, rounded; None when either is missing."""
    return round(a / b, 2) if a is not None and b else None


def summarise(subset: Subset, fixed: dict[str, float]) -> dict[str, Any]:
    """Per-side figures, ours/ref ratios and multiples of the lower bound.

    ``fixed`` holds each side's one-file wall time; when known, the wall time
    net of that fixed cost is reported too (it dominates small runs).
    """
    sides = {name: side_summary(runs, subset) for name, runs in subset.runs.items()}
    for name, s in sides.items():
        if s is not None and name in fixed and subset.name != ONE_FILE:
            s["net_wall_s"] = round(s["wall_s"] - fixed[name], 2)
    summary: dict[str, Any] = {"subset": subset.name, "sides": sides}
    ours, ref = sides.get("ours"), sides.get("ref")
    if ours and ref:
        keys = ("wall_s", "cpu_s", "peak_rss_mb", "peak_pss_mb")
        summary["ours_over_ref"] = {k: ratio(ours[k], ref[k]) for k in keys}
    lb = subset.lower_bound
    if lb:
        summary["lower_bound_s"] = lb["ideal_wall_s"]
        summary["over_lower_bound"] = {
            name: ratio(s["wall_s"], lb["ideal_wall_s"]) for name, s in sides.items() if s
        }
    return summary


def fmt(value: Any, spec: str = ".1f") -> str:
    """Format a figure, '-' when missing."""
    return "-" if value is None else format(value, spec)


def print_run(side: str, subset: Subset, rep: int, r: dict[str, Any]) -> None:
    """One progress line per run."""
    mark = "*" if r["other_cpu_pct"] > CONTAMINATED_PCT else " "
    status = "ok" if r["ok"] else "FAILED: " + "; ".join(r["problems"])
    print(
        f"  {subset.name:8s} {side:4s} r{rep}: wall {r['wall_s']:7.2f} s{mark} "
        f"cpu {r['tree_cpu_s']:7.2f} s  other {r['other_cpu_pct']:4.1f}%  "
        f"rss {r['peak_rss_mb']:7.1f}  pss {fmt(r['peak_pss_mb'])} MB  rows {r['rows']}  {status}",
        flush=True,
    )
    if not r["ok"]:
        print("    " + r.get("error_tail", "").replace("\n", "\n    "))
        print(f"    full log: {r['log']}")


HEADER = (
    f"{'subset':8s} {'side':4s} {'runs':>4s} {'wall s':>8s} {'CPU s':>8s} {'other%':>6s} "
    f"{'RSS MB':>8s} {'PSS MB':>8s} {'proc MB':>8s} {'files/s':>8s} {'MB/s':>7s} "
    f"{'rows':>6s} {'xLB':>6s} {'net s':>7s}"
)


def print_summary(summary: dict[str, Any]) -> None:
    """Table rows for one subset: each side, then ratios and the lower bound."""
    lb_mult = summary.get("over_lower_bound", {})
    for name, s in summary["sides"].items():
        if s is None:
            print(f"{summary['subset']:8s} {name:4s}   all runs failed")
            continue
        print(
            f"{summary['subset']:8s} {name:4s} {s['used']:>2d}/{s['runs']:<1d} {s['wall_s']:8.2f} "
            f"{s['cpu_s']:8.2f} {s['other_cpu_pct']:6.1f} {s['peak_rss_mb']:8.1f} "
            f"{fmt(s['peak_pss_mb']):>8s} {s['peak_single_rss_mb']:8.1f} "
            f"{s['files_per_s']:8.2f} {s['pixel_mb_per_s']:7.1f} {fmt(s['rows'], 'd'):>6s} "
            f"{fmt(lb_mult.get(name)):>6s} {fmt(s.get('net_wall_s'), '.2f'):>7s}"
        )
    if "ours_over_ref" in summary:
        r = summary["ours_over_ref"]
        print(
            f"{'':8s} ours/ref: wall {fmt(r['wall_s'], '.2f')}x  CPU {fmt(r['cpu_s'], '.2f')}x  "
            f"RSS {fmt(r['peak_rss_mb'], '.2f')}x  PSS {fmt(r['peak_pss_mb'], '.2f')}x"
        )
    if "lower_bound_s" in summary:
        print(f"{'':8s} lower bound (decode + minimal stats / cores): {summary['lower_bound_s']} s")


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Benchmark our `pixel-patrol process` against the public reference "
        "on the synthetic dataset (same loader, workers, processors, task budget).",
        epilog="Example: compare.py --data /tmp/pp-bench-data --subsets small2d stacks "
        "--repeat 2 --one-file",
    )
    p.add_argument("--data", type=Path, required=True, help="dataset root with manifest.json")
    p.add_argument(
        "--subsets",
        nargs="+",
        choices=SUBSETS,
        default=["small2d", "stacks"],
        help="subset folders to process (default: small2d stacks)",
    )
    p.add_argument("--one-file", action="store_true", help="also time one 256x256 PNG")
    p.add_argument(
        "--sides", nargs="+", choices=SIDES, default=list(SIDES), help="which tools to run"
    )
    p.add_argument("--workers", type=int, default=2, help="--max-workers on both sides")
    p.add_argument("--repeat", type=int, default=1, help="runs per side and subset")
    p.add_argument("--loader", default="bioio", help="loader on both sides (default bioio)")
    p.add_argument(
        "--processors",
        nargs="+",
        default=list(DEFAULT_PROCESSORS),
        help="processors to include on both sides; 'all' runs each tool's default set",
    )
    p.add_argument(
        "--mb-per-task",
        type=int,
        default=512,
        help="task budget: ours --mb-per-task M, reference --mb-per-worker 8*M (default 512)",
    )
    p.add_argument("--ref", default="/work/ref-venv", help="venv with pixel-patrol 1.0.1")
    p.add_argument("--ours-cmd", help="our CLI command (default: .venv/bin/pixel-patrol)")
    p.add_argument("--ours-extra", default="", help="extra arguments for our process command")
    p.add_argument("--ref-extra", default="", help="extra arguments for the reference")
    p.add_argument("--cold", action="store_true", help="drop the page cache before each run")
    p.add_argument("--no-lower-bound", action="store_true", help="skip lower_bound.py")
    p.add_argument("--no-warmup", action="store_true", help="skip the untimed first run per side")
    p.add_argument("--interval", type=float, default=0.25, help="memwatch sampling interval")
    p.add_argument("--timeout", type=float, default=1800, help="seconds before a run is stopped")
    p.add_argument(
        "--scratch",
        type=Path,
        default=Path("/tmp/pp-bench-runs"),
        help="folder for reports and run logs (default /tmp/pp-bench-runs)",
    )
    p.add_argument("--keep-outputs", action="store_true", help="keep the parquet reports")
    p.add_argument(
        "--results",
        type=Path,
        default=HERE / "results" / "compare.jsonl",
        help="JSON-lines file to append to (default benchmarks/results/compare.jsonl)",
    )
    args = p.parse_args(argv)
    if args.processors == ["all"]:
        args.processors = []
    return args


def check_sides(sides: dict[str, Side]) -> None:
    """Fail early, and clearly, if a side cannot run at all."""
    errors = [msg for side in sides.values() if (msg := preflight(side))]
    if errors:
        hint = "\n(to measure only the reference for now, pass --sides ref)"
        raise SystemExit("compare: cannot start:\n" + "\n".join(errors) + hint)
    for side in sides.values():
        print(f"{side.name}: {shlex.join(side.base_cmd)}  [{side.version}]")


def run_context(args: argparse.Namespace, sides: dict[str, Side]) -> dict[str, Any]:
    """Everything needed to interpret a result line later, repeated on every line."""
    manifest = json.loads((args.data / "manifest.json").read_text())["subsets"]
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": machine(),
        "ours_rev": git_revision(),
        "versions": {s.name: s.version for s in sides.values()},
        "data": str(args.data),
        "scale": {name: entry.get("scale") for name, entry in manifest.items()},
        "workers": args.workers,
        "loader": args.loader,
        "processors": args.processors or "default",
        "mb_per_task": args.mb_per_task,
        "cache": "cold" if args.cold else "warm",
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.scratch.mkdir(parents=True, exist_ok=True)
    subsets = load_subsets(args.data, args.subsets, args.one_file, args.scratch)
    sides = make_sides(args)
    check_sides(sides)
    if not args.processors:
        print("note: each tool runs its own default processors; this is not like with like")
    if not args.no_warmup:
        warm_up(sides, args)
    context = run_context(args, sides)
    measure_all(subsets, sides, args, context)
    report(subsets, args, context)
    return 0 if all(r["ok"] for s in subsets for rs in s.runs.values() for r in rs) else 1


def measure_all(
    subsets: list[Subset], sides: dict[str, Side], args: argparse.Namespace, context: dict
) -> None:
    """Lower bounds first, then the alternating runs; every run goes to the results file."""
    for subset in subsets:
        if not args.no_lower_bound and subset.name != ONE_FILE:  # one file: pure fixed cost
            subset.lower_bound = lower_bound(subset)
            if subset.lower_bound:
                append_jsonl(
                    args.results,
                    {"kind": "lower_bound", **context, "subset": subset.name, **subset.lower_bound},
                )
    for rep in range(args.repeat):
        order = list(sides) if rep % 2 == 0 else list(reversed(sides))
        for subset in subsets:
            for name in order:
                r = run_once(sides[name], subset, rep, args)
                subset.runs.setdefault(name, []).append(r)
                append_jsonl(
                    args.results,
                    {
                        "kind": "run",
                        **context,
                        "subset": subset.name,
                        "side": name,
                        "rep": rep,
                        **r,
                    },
                )
                print_run(name, subset, rep, r)


def fixed_costs(subsets: list[Subset]) -> dict[str, float]:
    """Each side's median one-file wall time, if a one-file run was made."""
    one = next((s for s in subsets if s.name == ONE_FILE), None)
    if one is None:
        return {}
    summaries = {name: side_summary(runs, one) for name, runs in one.runs.items()}
    return {name: s["wall_s"] for name, s in summaries.items() if s}


def report(subsets: list[Subset], args: argparse.Namespace, context: dict) -> None:
    """The summary table, also appended to the results file."""
    fixed = fixed_costs(subsets)
    print(f"\n{HEADER}")
    for subset in subsets:
        summary = summarise(subset, fixed)
        append_jsonl(args.results, {"kind": "summary", **context, **summary})
        print_summary(summary)
    print(f"\nresults appended to {args.results}")


if __name__ == "__main__":
    sys.exit(main())
