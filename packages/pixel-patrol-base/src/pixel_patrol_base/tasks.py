"""Worker side of every task kind. ``execute`` is the one function shipped to workers.

Batch tasks are in :mod:`pixel_patrol_base.worker`; this module adds container tasks (some
images of one file) and chunk tasks (one region of an image larger than the budget: a range
pre-pass, then the statistics pass).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, assert_never

import numpy as np
import pyarrow as pa

from pixel_patrol_base import parts
from pixel_patrol_base.fileinfo import file_columns
from pixel_patrol_base.planning import BatchTask, ChunkTask, ContainerTask, Task
from pixel_patrol_base.rows import RowBuffer
from pixel_patrol_base.worker import (
    TaskResult,
    TaskStats,
    WorkContext,
    add_error,
    peak_rss_mb,
    process_image,
    run_batch,
    timed,
)

if TYPE_CHECKING:
    from pixel_patrol_base.engine import ChunkResult
    from pixel_patrol_base.planes import PlaneKey


@dataclass(slots=True)
class ChunkOutcome:
    """Result of a chunk task: a value range and survey partials (range and survey phases)
    or engine partials (stats phase)."""

    value_range: tuple[float, float] | None
    chunk: ChunkResult | None
    stats: TaskStats
    partials: dict[PlaneKey, Any] = field(default_factory=dict)
    """Survey partials per plane (of the plugin's plane programs: any picklable value)."""


TaskOutcome = TaskResult | ChunkOutcome
"""What :func:`execute` returns: a batch or container task's rows, or a chunk task's pieces."""


def execute(task: Task, ctx: WorkContext) -> TaskOutcome:
    """Run any task kind on a worker."""
    cpu0 = time.process_time()
    out: TaskOutcome
    match task:
        case BatchTask():
            out = run_batch(task, ctx)
        case ContainerTask():
            out = run_container(task, ctx)
        case ChunkTask():
            out = run_chunk(task, ctx)
        case _:
            assert_never(task)
    if (
        ctx.spill_dir is not None
        and isinstance(out, TaskResult)
        and isinstance(out.table, pa.Table)
        and out.table.nbytes >= parts.STORE_MIN_BYTES
        and parts.reachable(ctx.spill_dir, ctx.spill_token)
    ):
        from pixel_patrol_base.privacy import relative_table

        remote = ctx.spill_token is not None  # a worker on another host (see WorkContext)
        out.table = parts.store_table(relative_table(out.table, ctx.private_forms), ctx.spill_dir, compress=remote)
    out.stats.cpu_s += time.process_time() - cpu0
    return out


def run_container(task: ContainerTask, ctx: WorkContext) -> TaskResult:
    """Process some whole images of one file."""
    assert ctx.loader is not None
    buf = RowBuffer(ctx.part_schema)
    stats = TaskStats()
    procs = timed(ctx.processors, stats)
    base = file_columns(task.ref.entry, ctx.omit_base_dir, ctx.known_extensions)
    try:
        f = ctx.loader.open(task.ref.entry.path)
        headers = list(f.images)
    except Exception as exc:  # noqa: BLE001 - per-file boundary (the file changed or vanished)
        for i in task.images:
            add_error(buf, task.ref.index, i, base, "header", exc)
        stats.errors += len(task.images)
        return TaskResult(buf.to_table(), [], stats)
    with f:
        for i in task.images:
            process_image(f, i, headers[i], len(headers), task.ref, base, ctx, procs, buf, stats)
    stats.peak_rss_mb = peak_rss_mb()
    return TaskResult(buf.to_table(), [], stats)


def run_chunk(task: ChunkTask, ctx: WorkContext) -> ChunkOutcome:
    """Read one region (with the tiled processors' halo) and run one phase on it.

    ``range``: the region's finite value range and the first survey pass of the plane
    programs it carries; ``survey``: a further survey pass; ``stats``: the engine partials.
    Errors propagate: the coordinator turns a failed chunk into an error row for the image.
    """
    from pixel_patrol_base import engine, rounds
    from pixel_patrol_base.blocks import LeafGrid
    from pixel_patrol_base.tiling import halo_bounds

    assert ctx.loader is not None
    stats = TaskStats()
    t0 = time.perf_counter()
    with ctx.loader.open(task.ref.entry.path) as f:
        header = f.images[task.image]
        read = halo_bounds(task.region, header.dim_order, header.shape, ctx.halo)
        array = np.asarray(f.read(task.image, tuple(slice(a, b) for a, b in read)))
    stats.load_s = time.perf_counter() - t0
    box = tuple(slice(a, b) for a, b in task.region)
    programs = dict(task.programs)
    if task.phase == "stats":
        procs = timed(ctx.processors, stats)
        held = tuple(slice(a, b) for a, b in read)
        part = engine.analyse_chunk(
            array, box, header, ctx.slice_size, procs, task.value_range, held, programs
        )
        out = ChunkOutcome(None, part, stats)
    else:
        grid = LeafGrid.from_header(header, ctx.slice_size)
        partials = rounds.survey_chunk(array, read, task.region, grid, ctx.processors, programs)
        own = array[tuple(slice(a - r, b - r) for (a, b), (r, _) in zip(task.region, read, strict=True))]
        found = engine.finite_range(own) if task.phase == "range" else None
        out = ChunkOutcome(found, None, stats, partials)
    stats.peak_rss_mb = peak_rss_mb()
    return out


__all__ = ["ChunkOutcome", "TaskOutcome", "execute", "run_chunk", "run_container"]
