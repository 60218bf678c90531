"""Task execution and what follows a finished or failed task.

``execute`` is the one function shipped to workers. ``follow_up`` plans the tasks of files a
worker handed back; ``on_failure`` decides what a failed task means: a task with several
files or images is split so each runs alone (isolating a file that kills its worker); a task
with one file becomes that file's error row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from pixel_patrol_base.fileinfo import file_columns
from pixel_patrol_base.planning import BatchTask, FileRef
from pixel_patrol_base.rows import RowBuffer
from pixel_patrol_base.worker import (
    TaskResult,
    TaskStats,
    WorkContext,
    _closing,
    _timed,
    add_error,
    image_constants,
    peak_rss_mb,
    process_image,
    run_batch,
)


@dataclass(frozen=True, slots=True)
class ContainerTask:
    """Some images of one file (a container's sub-images, or a large single image)."""

    ref: FileRef
    images: tuple[int, ...]
    n_images: int
    kind: str = "container"


def execute(task: Any, ctx: WorkContext) -> TaskResult:
    """Run any task kind on a worker."""
    if isinstance(task, BatchTask):
        return run_batch(task, ctx)
    if isinstance(task, ContainerTask):
        return run_container(task, ctx)
    raise TypeError(f"unknown task {type(task).__name__}")


def run_container(task: ContainerTask, ctx: WorkContext) -> TaskResult:
    """Process some images of one file."""
    assert ctx.loader is not None
    buf = RowBuffer(ctx.part_schema)
    stats = TaskStats(files=int(task.images[0] == 0))
    procs = _timed(ctx.processors, stats)
    base = file_columns(task.ref.entry, ctx.omit_base_dir, ctx.known_extensions)
    try:
        f = ctx.loader.open(task.ref.entry.path)
        headers = list(f.images)
    except Exception as exc:  # noqa: BLE001 - per-file boundary (file changed since its header was read)
        for i in task.images:
            add_error(buf, task.ref.index, i, base, "header", exc)
        stats.errors += len(task.images)
        return TaskResult(buf.to_table(), [], stats)
    with _closing(f):
        for i in task.images:
            process_image(f, i, headers[i], len(headers), task.ref, base, ctx, procs, buf, stats)
    stats.peak_rss_mb = peak_rss_mb()
    return TaskResult(buf.to_table(), [], stats)


def follow_up(task: Any, result: TaskResult, ctx: WorkContext) -> list[Any]:
    """Tasks for the files a worker handed back (containers, large images)."""
    out: list[Any] = []
    for d in result.deferred:
        n = len(d.headers)
        group: list[int] = []
        size = 0
        for i, h in enumerate(d.headers):
            if group and (size + h.nbytes > ctx.budget_bytes or len(group) >= ctx.max_images):
                out.append(ContainerTask(d.ref, tuple(group), n))
                group, size = [], 0
            group.append(i)
            size += h.nbytes
        if group:
            out.append(ContainerTask(d.ref, tuple(group), n))
    return out


def on_failure(task: Any, exc: BaseException, ctx: WorkContext) -> tuple[list[Any], pa.Table | None, TaskStats]:
    """Split a failed task for isolation, or record its single file as an error."""
    stats = TaskStats()
    if isinstance(task, BatchTask) and len(task.files) > 1:
        return [BatchTask((ref,)) for ref in task.files], None, stats
    if isinstance(task, ContainerTask) and len(task.images) > 1:
        return [ContainerTask(task.ref, (i,), task.n_images) for i in task.images], None, stats
    buf = RowBuffer(ctx.part_schema)
    cause = RuntimeError(f"worker failed while processing this file ({type(exc).__name__}: {exc})")
    if isinstance(task, BatchTask):
        ref = task.files[0]
        add_error(buf, ref.index, 0, file_columns(ref.entry, ctx.omit_base_dir, ctx.known_extensions), "process", cause)
        stats.files = 1
    else:
        ref, i = task.ref, task.images[0]
        const = file_columns(ref.entry, ctx.omit_base_dir, ctx.known_extensions)
        add_error(buf, ref.index, i, const, "process", cause)
        stats.files = int(i == 0)
    stats.errors = 1
    return [], buf.to_table(), stats


__all__ = ["ContainerTask", "execute", "follow_up", "image_constants", "on_failure"]
