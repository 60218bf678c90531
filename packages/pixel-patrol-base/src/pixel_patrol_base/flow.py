"""Coordinator bookkeeping: what follows each finished or failed task.

* A batch worker hands back files that need their own tasks (large images, heavy containers);
  they are planned here from the headers the worker read.
* The chunks of a large image are collected: first their value ranges (so histogram edges are
  image-wide), then their statistics, which are merged into the image's rows.
* A failed task with several files or images is split so each runs alone; a failure that is
  isolated to one file or image becomes its error row. Nothing else is lost.

Pure bookkeeping on plain values; the executor and the writer live in the pipeline.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, assert_never

import pyarrow as pa

from pixel_patrol_base.contracts import ImageHeader
from pixel_patrol_base.errors import ContractError
from pixel_patrol_base.fileinfo import file_columns
from pixel_patrol_base.parts import StoredPart
from pixel_patrol_base.planning import (
    BatchTask,
    ChunkTask,
    ContainerTask,
    FileRef,
    Phase,
    Task,
    plan_file,
)
from pixel_patrol_base.rows import RowBuffer, row_key
from pixel_patrol_base.tasks import ChunkOutcome, TaskOutcome
from pixel_patrol_base.worker import TaskResult, TaskStats, WorkContext, add_error, image_constants

if TYPE_CHECKING:
    from pixel_patrol_base.blocks import LeafGrid
    from pixel_patrol_base.contracts import ImageContext, PlaneProgram
    from pixel_patrol_base.engine import ChunkResult, ValueRange
    from pixel_patrol_base.planes import PlaneKey

AttemptKey = tuple[int, int] | tuple[int, int, tuple[tuple[int, int], ...], Phase]
"""What a retry is counted for: (file, image), image ``-1`` for a whole file, or a chunk's
(file, image, region, phase)."""

ATTEMPTS = 2
"""Tries of a task that runs alone (one file, image or chunk) before it becomes an error row."""


@dataclass(slots=True)
class Outcome:
    """What the coordinator does after a task: write tables, count, submit more."""

    tables: list[pa.Table | StoredPart] = field(default_factory=list)
    """Arrow tables, or part files a worker wrote (:class:`~pixel_patrol_base.parts.StoredPart`)."""
    stats: TaskStats = field(default_factory=TaskStats)
    tasks: list[Task] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    """Absolute paths of files whose rows are now all in ``tables`` or written before."""


@dataclass(slots=True)
class _Image:
    """A large image being processed chunk by chunk."""

    ref: FileRef
    header: ImageHeader
    n_images: int
    regions: list[tuple[tuple[int, int], ...]]
    ranges: list[ValueRange | None] = field(default_factory=list)
    parts: list[ChunkResult] = field(default_factory=list)
    failed: bool = False
    programs: dict[PlaneKey, PlaneProgram] = field(default_factory=dict)
    """Plane programs of the planes the chunks cut (see :mod:`pixel_patrol_base.rounds`)."""
    merged: dict[PlaneKey, Any] = field(default_factory=dict)
    """Per plane, the merged survey partial of the chunks done in the current round."""
    arrived: int = 0
    """Chunks done in the current pre-pass round."""


class Flow:
    """Follow-up planning, chunk assembly and failure isolation for one run."""

    def __init__(self, ctx: WorkContext) -> None:
        self.ctx = ctx
        self.needs_range = any(p.NEEDS_RANGE for p in ctx.processors)
        self.remaining: dict[int, int] = {}
        self.paths: dict[int, str] = {}
        self.images: dict[tuple[int, int], _Image] = {}
        self.attempts: dict[AttemptKey, int] = {}

    def done(self, task: Task, result: TaskOutcome) -> Outcome:
        """Handle a finished task (``result`` is what :func:`~pixel_patrol_base.tasks.execute`
        returns for its kind)."""
        match task:
            case BatchTask():
                assert isinstance(result, TaskResult)
                return self._batch_done(task, result)
            case ContainerTask():
                assert isinstance(result, TaskResult)
                out = Outcome([result.table], result.stats)
                self._images_done(task.ref.index, len(task.images), out)
                return out
            case ChunkTask():
                assert isinstance(result, ChunkOutcome)
                return self._chunk_done(task, result)
            case _:
                assert_never(task)

    def failed(self, task: Task, exc: BaseException) -> Outcome:
        """Handle a task that raised or whose worker died."""
        match task:
            case BatchTask():
                return self._batch_failed(task, exc)
            case ContainerTask():
                return self._container_failed(task, exc)
            case ChunkTask():
                return self._chunk_failed(task, exc)
            case _:
                assert_never(task)

    def _batch_failed(self, task: BatchTask, exc: BaseException) -> Outcome:
        if len(task.files) > 1:
            return Outcome(tasks=[BatchTask((ref,)) for ref in task.files])
        if self._retry((task.files[0].index, -1)):
            return Outcome(tasks=[task])
        ref = task.files[0]
        out = Outcome([self._error(ref, 0, {}, "process", _worker_failed(exc))])
        out.stats.files, out.stats.errors = 1, 1
        out.completed.append(ref.entry.key)
        return out

    def _container_failed(self, task: ContainerTask, exc: BaseException) -> Outcome:
        if len(task.images) > 1:
            return Outcome(tasks=[dataclasses.replace(task, images=(i,)) for i in task.images])
        if self._retry((task.ref.index, task.images[0])):
            return Outcome(tasks=[task])
        out = Outcome([self._error(task.ref, task.images[0], {}, "process", _worker_failed(exc))])
        out.stats.errors = 1
        self._images_done(task.ref.index, 1, out)
        return out

    def _retry(self, key: AttemptKey) -> bool:
        """Whether an isolated task gets one more try (its first failure may have been a
        neighbour's fault, e.g. a worker killed for memory while it waited there)."""
        self.attempts[key] = self.attempts.get(key, 0) + 1
        return self.attempts[key] < ATTEMPTS

    def _batch_done(self, task: BatchTask, result: TaskResult) -> Outcome:
        out = Outcome([result.table], result.stats)
        later = {d.ref.index for d in result.deferred}
        out.completed = [r.entry.key for r in task.files if r.index not in later]
        for d in result.deferred:
            tasks = plan_file(
                d.ref, d.headers, self.ctx.slice_size, self.ctx.budget_bytes,
                self.ctx.max_images, self.needs_range, self.ctx.halo,
            )
            self.remaining[d.ref.index] = len(d.headers)
            self.paths[d.ref.index] = d.ref.entry.key
            chunked: dict[tuple[int, int], ChunkTask] = {}
            for t in tasks:
                if not isinstance(t, ChunkTask):
                    out.tasks.append(t)
                    continue
                key = (d.ref.index, t.image)
                if key not in self.images:
                    self.images[key] = _Image(d.ref, d.headers[t.image], len(d.headers), [])
                self.images[key].regions.append(t.region)
                chunked.setdefault(key, t)
            for key, first in chunked.items():
                out.tasks += self._first_round(first, self.images[key])
        return out

    def _first_round(self, task: ChunkTask, img: _Image) -> list[ChunkTask]:
        """The first pass over a chunked image: a pre-pass when the histogram edges or the
        plane programs of planes the chunks cut need one, else the statistics pass."""
        from pixel_patrol_base import rounds

        grid, image = self._geometry(img)
        img.programs = rounds.initial_programs(grid, image, self.ctx.processors, img.regions)
        phase: Phase = "range" if self.needs_range or rounds.pending(img.programs) else "stats"
        return self._round(task, img, phase, None)

    def _geometry(self, img: _Image) -> tuple[LeafGrid, ImageContext]:
        from pixel_patrol_base.blocks import LeafGrid
        from pixel_patrol_base.contracts import ImageContext

        grid = LeafGrid.from_header(img.header, self.ctx.slice_size)
        return grid, ImageContext(img.header.dim_order, grid.shape, img.header.dtype)

    def _round(
        self, task: ChunkTask, img: _Image, phase: Phase, value_range: ValueRange | None
    ) -> list[ChunkTask]:
        """One task per region of the image for ``phase``, each with the programs it needs."""
        from pixel_patrol_base import rounds

        grid, _ = self._geometry(img)
        return [
            dataclasses.replace(
                task,
                region=r,
                phase=phase,
                value_range=value_range,
                programs=tuple(rounds.programs_in(grid, r, img.programs).items()),
            )
            for r in img.regions
        ]

    def _images_done(self, file_index: int, n: int, out: Outcome) -> None:
        self.remaining[file_index] -= n
        if self.remaining[file_index] == 0:
            del self.remaining[file_index]
            out.stats.files += 1
            out.completed.append(self.paths.pop(file_index))

    def _chunk_done(self, task: ChunkTask, result: ChunkOutcome) -> Outcome:
        img = self.images[(task.ref.index, task.image)]
        out = Outcome(stats=result.stats)
        if img.failed:
            return out
        if task.phase in ("range", "survey"):
            if task.phase == "range":
                img.ranges.append(result.value_range)
            for key, part in result.partials.items():
                known = img.merged.get(key)
                img.merged[key] = part if known is None else img.programs[key].merge([known, part])
            img.arrived += 1
            if img.arrived == len(img.regions):
                out.tasks += self._next_round(task, img)
            return out
        assert result.chunk is not None  # the stats phase returns the chunk's pieces
        img.parts.append(result.chunk)
        if len(img.parts) == len(img.regions):
            out.tables.append(self._assemble(task, img, out.stats))
            del self.images[(task.ref.index, task.image)]
            self._images_done(task.ref.index, 1, out)
        return out

    def _next_round(self, task: ChunkTask, img: _Image) -> list[ChunkTask]:
        """After a pre-pass round: advance the plane programs, then survey again or run the
        statistics pass with the image-wide value range."""
        from pixel_patrol_base import rounds
        from pixel_patrol_base.engine import merge_ranges

        if rounds.pending(img.programs):
            img.programs = rounds.advance(img.programs, img.merged)
        img.merged, img.arrived = {}, 0
        value_range = merge_ranges(img.ranges) if img.ranges else None
        phase: Phase = "survey" if rounds.pending(img.programs) else "stats"
        return self._round(task, img, phase, value_range)

    def _assemble(self, task: ChunkTask, img: _Image, stats: TaskStats) -> pa.Table:
        from pixel_patrol_base import engine

        const = image_constants(img.header, img.n_images)
        try:
            rows = engine.finish_image(
                img.parts, img.header, self.ctx.slice_size, self.ctx.processors, task.value_range
            )
        except ContractError as exc:  # a broken plugin stops the run (docs/plugins.md)
            raise exc.at(img.ref.entry.path) from None
        except Exception as exc:  # noqa: BLE001 - per-image boundary: a failed merge is data
            stats.errors += 1
            return self._error(img.ref, task.image, const, "process", exc)
        buf = RowBuffer(self.ctx.part_schema)
        base = file_columns(img.ref.entry, self.ctx.omit_base_dir, self.ctx.known_extensions)
        buf.add(row_key(img.ref.index, task.image), {**base, **const}, rows, len(rows["obs_level"]))
        stats.images += 1
        return buf.to_table()

    def _chunk_failed(self, task: ChunkTask, exc: BaseException) -> Outcome:
        if self._retry((task.ref.index, task.image, task.region, task.phase)):
            return Outcome(tasks=[task])
        img = self.images[(task.ref.index, task.image)]
        out = Outcome()
        if img.failed:
            return out
        img.failed = True
        const = image_constants(img.header, img.n_images)
        out.tables.append(self._error(task.ref, task.image, const, "process", exc))
        out.stats.errors = 1
        self._images_done(task.ref.index, 1, out)
        return out

    def _error(self, ref: FileRef, image: int, const: dict[str, Any], stage: str, exc: BaseException) -> pa.Table:
        buf = RowBuffer(self.ctx.part_schema)
        base = file_columns(ref.entry, self.ctx.omit_base_dir, self.ctx.known_extensions)
        add_error(buf, ref.index, image, {**base, **const}, stage, exc)
        return buf.to_table()


def _worker_failed(exc: BaseException) -> BaseException:
    return RuntimeError(f"worker failed while processing this file ({type(exc).__name__}: {exc})")


__all__ = ["Flow", "Outcome"]
