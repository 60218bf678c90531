"""The coordinator's CPU per file on its two paths that grow with the dataset, without any task.

* ``walk``: what the coordinator does for every file of a run while workers process them:
  discovery (walk, stat, accounting), planning into batch tasks, pickling each task for a
  worker, the completed-file list and the done-list line of the journal.
* ``merge``: the final merge, from part files of ``--part-rows`` rows (as workers write them)
  to the report, for the rows of an existing report (``--report``).

No task runs, so the figures do not depend on the processors and vary little with the load of a
shared machine (CPU seconds of this process are measured, not wall time). With ``--profile``
the top functions by own time are printed.

Example::

    uv run --no-sync python benchmarks/coordinator_cost.py /tmp/pp-scale/images-10000 --loader bioio \\
        --report /tmp/tiny.parquet
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pickle
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from json.encoder import encode_basestring_ascii
from pathlib import Path


def walk_cost(folder: Path, loader: str | None) -> tuple[int, Callable[[], None]]:
    """Files found, and the function that walks, plans and pickles them once."""
    from pixel_patrol_base import pipeline
    from pixel_patrol_base.planning import batch_files
    from pixel_patrol_base.project import Project
    from pixel_patrol_base.settings import ProcessingSettings

    scratch = Path(tempfile.mkdtemp(prefix="pp-coord-"))
    project = Project(name="x", base_dir=folder, output_path=scratch / "r.parquet", loader=loader)
    settings = ProcessingSettings()
    ctx = pipeline.build_context(project, settings)
    count = [0]

    def run() -> None:
        coord = pipeline.Coordinator(project, settings, ctx)  # set-up (plugin versions): not timed
        t0 = time.process_time()
        tasks = pipeline._ramp_up(batch_files(coord._refs(), settings.budget_bytes, settings.max_images_per_task))
        n = 0
        for task in tasks:
            pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL)
            keys = [ref.entry.key for ref in task.files]
            "".join(line + "\n" for line in map(encode_basestring_ascii, keys))
            n += len(task.files)
        run.cpu_s = time.process_time() - t0  # type: ignore[attr-defined]
        coord.writer.abort()
        count[0] = n

    run()  # warm: imports, plugin discovery
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    return count[0], run


def merge_cost(report: Path, part_rows: int) -> tuple[int, Callable[[], None]]:
    """Rows, and the function that merges parts of ``part_rows`` rows into a report once."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pixel_patrol_base.parts import write_part_file
    from pixel_patrol_base.report import ReportWriter
    from pixel_patrol_base.rows import row_key
    from pixel_patrol_base.schema import ORDER_FIELD, SOURCE_FIELD, with_order

    src = pq.read_table(report).replace_schema_metadata(None)
    schema = src.schema
    keys = pa.array([row_key(i) for i in range(src.num_rows)], pa.int64())
    full = src.append_column(ORDER_FIELD, keys).append_column(SOURCE_FIELD, src.column("imported_path"))
    full = full.cast(with_order(schema))
    scratch = Path(tempfile.mkdtemp(prefix="pp-merge-"))

    def run() -> None:
        out = scratch / "report.parquet"
        writer = ReportWriter(out, schema, 10_000, 2048)
        for i in range(0, full.num_rows, part_rows):  # written by workers: not timed
            path = writer.journal.folder / f"part-w1-{i:09d}.arrow"
            write_part_file(full.slice(i, part_rows), path)
            writer.journal.add_part(path)
        writer.journal.mark_done([])
        writer.rows = full.num_rows
        t0 = time.process_time()
        writer.finish({"name": "bench"})
        run.cpu_s = time.process_time() - t0  # type: ignore[attr-defined]
        got = pq.read_table(out).replace_schema_metadata(None)
        if not got.equals(src):
            raise SystemExit("the merged report differs from its rows")
        out.unlink()

    return src.num_rows, run


def measure(label: str, n: int, fn: Callable[[], None], repeat: int, profile: bool) -> None:
    best = float("inf")
    prof = cProfile.Profile() if profile else None
    for _ in range(repeat):
        t0 = time.process_time()
        if prof:
            prof.enable()
        fn()
        if prof:
            prof.disable()
        spent = getattr(fn, "cpu_s", time.process_time() - t0)
        best = min(best, spent)
    print(f"{label:6s} {n:>10,} {best:8.3f} {1000 * best / max(n, 1):10.4f}", flush=True)
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder", type=Path, help="folder to discover (e.g. one made by scale.py)")
    p.add_argument("--loader", default=None, help="loader (default: none, file facts)")
    p.add_argument("--report", type=Path, help="a report whose rows the merge is timed with")
    p.add_argument("--part-rows", type=int, default=200)
    p.add_argument("--repeat", type=int, default=3, help="runs; the least CPU is kept")
    p.add_argument("--profile", action="store_true")
    args = p.parse_args(argv)
    print(f"uptime: {os.getloadavg()}")
    print(f"{'path':6s} {'files':>10s} {'cpu s':>8s} {'ms/file':>10s}")
    n, fn = walk_cost(args.folder, args.loader)
    measure("walk", n, fn, args.repeat, args.profile)
    if args.report is not None:
        rows, merge = merge_cost(args.report, args.part_rows)
        measure("merge", rows, merge, args.repeat, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
