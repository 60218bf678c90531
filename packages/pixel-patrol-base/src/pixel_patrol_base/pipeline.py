"""The coordinator: discovery → planning → tasks on an executor → report writer.

It keeps a bounded number of tasks in flight, writes results as they arrive, and turns every
failure into data: a task that dies is split and retried so that only the file that caused it
ends up as an error row.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pyarrow as pa

from pixel_patrol_base import __version__
from pixel_patrol_base.accounting import Accounting, NoReader
from pixel_patrol_base.contracts import BudgetedLoader, SupportsDatasetDirs
from pixel_patrol_base.discovery import DiscoveryProblem, FileEntry, Filter, discover, safe_text
from pixel_patrol_base.errors import ContractError, ImageReadError
from pixel_patrol_base.executor import Executor, SupportsCpuSeconds
from pixel_patrol_base.fileinfo import file_columns
from pixel_patrol_base.flow import Flow
from pixel_patrol_base.formats import KNOWN_FOLDER_FORMATS
from pixel_patrol_base.outputs import log_path
from pixel_patrol_base.parts import StoredPart
from pixel_patrol_base.pathtext import valid_json
from pixel_patrol_base.planning import BatchTask, ChunkTask, FileRef, Task, batch_files
from pixel_patrol_base.plugins import get_loader, select_processors
from pixel_patrol_base.privacy import base_forms, relative_json, relative_table
from pixel_patrol_base.project import Project
from pixel_patrol_base.report import ReportWriter
from pixel_patrol_base.rows import RowBuffer
from pixel_patrol_base.runner import (
    AdaptiveExecutor,
    InlineExecutor,
    active_client,
    connect,
    plan_workers,
)
from pixel_patrol_base.schema import report_columns, to_schema
from pixel_patrol_base.settings import ProcessingSettings
from pixel_patrol_base.summary import RunSummary
from pixel_patrol_base.tasks import TaskOutcome, execute
from pixel_patrol_base.worker import WorkContext, add_error

if TYPE_CHECKING:
    from pixel_patrol_base.incremental import Previous

log = logging.getLogger(__name__)

LOOKAHEAD = 10_000
"""Files discovery may run ahead of processing."""

ProgressCallback = Callable[[int, int, bool], None]
"""``callback(files_done, files_found, discovery_finished)``."""


@runtime_checkable
class SupportsWatch(Protocol):
    """A progress callback that also shows the error count as it grows (optional)."""

    def watch(self, summary: RunSummary) -> None:
        """Read the counts from ``summary`` (the run's own, updated as it goes)."""
        ...


def build_context(project: Project, settings: ProcessingSettings) -> WorkContext:
    """Resolve plugins and the schema (fails fast, before any file is touched)."""
    loader = get_loader(project.loader) if project.loader else None
    if isinstance(loader, BudgetedLoader):
        loader = loader.with_budget(settings.budget_bytes)
    procs = (
        tuple(select_processors(settings.processors_include, settings.processors_exclude))
        if loader
        else ()
    )
    schema = to_schema(report_columns(loader, procs, settings.slice_size))
    return WorkContext(
        loader=loader,
        processors=procs,
        slice_size=dict(settings.slice_size),
        schema=schema,
        omit_base_dir=settings.omit_base_dir,
        budget_bytes=settings.budget_bytes,
        max_images=settings.max_images_per_task,
    )


def discovery_filter(project: Project, settings: ProcessingSettings, ctx: WorkContext) -> Filter:
    """What discovery yields for this loader and ``-e`` selection."""
    out = project.output_path
    exclude = frozenset({str(out), str(log_path(out))})
    if ctx.loader is None:
        return Filter(extensions=settings.file_extensions, exclude=exclude)
    supported = ctx.loader.SUPPORTED_EXTENSIONS | ctx.loader.FOLDER_EXTENSIONS
    wanted = settings.file_extensions & supported if settings.file_extensions else supported
    return Filter(
        extensions=frozenset(wanted),
        folder_extensions=ctx.loader.FOLDER_EXTENSIONS & wanted,
        is_dataset_dir=ctx.loader.is_dataset_dir if isinstance(ctx.loader, SupportsDatasetDirs) else None,
        exclude=exclude,
        report_unread=True,
        selected=settings.file_extensions,
        unread_folder_extensions=KNOWN_FOLDER_FORMATS - ctx.loader.FOLDER_EXTENSIONS,
    )


def fingerprint(project: Project, settings: ProcessingSettings, ctx: WorkContext) -> dict[str, Any]:
    """Everything that shapes the rows: a resumed run must match it exactly."""
    return {
        "base_dir": None if settings.omit_base_dir else safe_text(str(project.base_dir)),
        "paths": [safe_text(str(p.relative_to(project.base_dir))) for p in project.paths],
        "loader": project.loader,
        "processors": [p.NAME for p in ctx.processors],
        "columns": ctx.schema.names,
        "slice_size": dict(sorted(settings.slice_size.items())),
        "file_extensions": sorted(settings.file_extensions),
        "omit_base_dir": settings.omit_base_dir,
        "versions": row_provenance(ctx),
    }


def row_provenance(ctx: WorkContext) -> dict[str, Any]:
    """The code that shapes the rows: core, plugin distributions, their libraries (versions.py)."""
    from pixel_patrol_base.versions import provenance

    return provenance(ctx.loader, ctx.processors)


class Coordinator:
    """Runs one scan: owns the executor, the writer and the counters."""

    def __init__(
        self,
        project: Project,
        settings: ProcessingSettings,
        ctx: WorkContext,
        progress: ProgressCallback | None = None,
    ) -> None:
        self._executor_now: Executor | None = None
        self._shown = 0
        self._t0 = time.perf_counter()
        self.project = project
        self.settings = settings
        self.ctx = ctx
        self.progress = progress
        self.summary = RunSummary()
        self.found = 0
        self.queued = 0
        """Files handed to the planner to be processed (found, minus those skipped)."""
        self.discovery_done = False
        self.flow = Flow(ctx)
        self.fingerprint = fingerprint(project, settings, ctx)
        """Computed once: it reads every plugin's distribution metadata (a tenth of a second)."""
        self.writer = ReportWriter(
            project.output_path,
            ctx.schema,
            settings.rows_per_part,
            settings.parquet_row_group_size,
            fingerprint=self.fingerprint,
            resume=settings.resume,
        )
        self.summary.resumed = len(self.writer.done)
        self.previous: Previous | None = None
        self.forms = base_forms(project.base_dir) if settings.omit_base_dir else ()
        self.accounting = Accounting.for_run(ctx.loader, settings.omit_base_dir)
        if settings.incremental:
            from pixel_patrol_base.incremental import load_previous

            self.previous = load_previous(project.output_path, self.fingerprint)

    def run(self) -> RunSummary:
        """Process everything and write the report; returns the summary."""
        t0 = self._t0 = time.perf_counter()
        self._phase("start")
        try:
            fresh = batch_files(self._refs(), self.settings.budget_bytes, self.settings.max_images_per_task)
            first = list(itertools.islice(fresh, 2))
            executor = self._executor(small=_small(first))
            self.summary.workers, self.summary.executor = executor.n_workers, executor.kind
            tasks: Iterator[BatchTask] = itertools.chain(first, fresh)
            if isinstance(executor, AdaptiveExecutor):
                tasks = _ramp_up(tasks)
            try:
                self._loop(executor, tasks)
            finally:
                self._executor_now = None
                self.summary.inline_cpu_s = executor.cpu_s if isinstance(executor, SupportsCpuSeconds) else 0.0
                executor.close()
            self.summary.accounting = self.accounting.to_json()
            self._phase("processing")
            if self._up_to_date():
                return self.summary
            self._copy_previous()
            self.summary.wall_s = time.perf_counter() - t0
            self.summary.rows = self.writer.rows
            self.writer.finish(self.footer())
            self._phase("merge")
        except ContractError:  # rows of a plugin that broke its contract are not kept (docs/plugins.md)
            self.writer.abort()
            raise
        except BaseException:  # includes Ctrl-C: save completed work for --resume, then re-raise
            self.writer.interrupt()
            raise
        return self.summary

    def _executor(self, small: bool) -> Executor:
        """In-process for file-info scans, ``--max-workers 1`` and, unless workers were asked
        for, runs of a single small task; else the first task in-process and forked workers for the
        rest (see :class:`~pixel_patrol_base.runner.AdaptiveExecutor`)."""
        s = self.settings
        tiny = small and s.max_workers is None and not s.scheduler
        if self.ctx.loader is None or s.max_workers == 1 or tiny:
            ex: Executor = InlineExecutor(self.ctx, self._report)
        elif s.scheduler:
            ex = connect(s.scheduler, self._spilling(remote=True), s.task_timeout)
        elif (client := active_client()) is not None:
            from pixel_patrol_base.runner import DaskExecutor

            ex = DaskExecutor(client, self._spilling(remote=True), kind="active client", task_timeout=s.task_timeout)
        else:
            plan = plan_workers(s.mb_per_task, s.max_workers)
            log.info("using %d worker%s (%s)", plan.n_workers, "s" * (plan.n_workers > 1), plan.reason)
            if plan.n_workers == 1:
                ex = InlineExecutor(self.ctx, self._report)
            else:
                queued = self._queued if s.max_workers is None else None
                ex = AdaptiveExecutor(plan, self._spilling(remote=False), s.task_timeout, self._report, queued)
        self._executor_now = ex
        return ex

    def _queued(self) -> int | None:
        """Files queued for processing so far; ``None`` while discovery may find more."""
        return self.queued if self.discovery_done else None

    def _spilling(self, remote: bool) -> WorkContext:
        """The context for workers that write the rows of their tasks to parts themselves, so
        the coordinator never receives, sorts or compresses them. Workers of a cluster do so
        where they see the parts folder (a shared file system: its token is there) and send
        their rows otherwise."""
        journal = self.writer.journal
        token = journal.token if remote else None
        return dataclasses.replace(self.ctx, spill_dir=str(journal.folder), spill_token=token, private_forms=self.forms)

    def _refs(self) -> Iterator[FileRef]:
        """Discovered files to process, read ahead of the planner by up to ``LOOKAHEAD``
        files: small and medium runs know their total (and an ETA) almost at once, while the
        memory held stays bounded however many files there are."""
        ahead: deque[FileRef] = deque()
        found = self._found()
        while True:
            while len(ahead) < LOOKAHEAD and (ref := next(found, None)) is not None:
                ahead.append(ref)
            if not ahead:
                return
            yield ahead.popleft()

    def _found(self) -> Iterator[FileRef]:
        flt = discovery_filter(self.project, self.settings, self.ctx)
        by_condition = self.summary.conditions
        done = self.writer.done  # files of an interrupted run (empty unless --resume)
        for found in discover(self.project.base_dir, self.project.paths, flt):
            item = self.accounting.sort(found)
            if item is None:  # a file the loader does not read: counted, no rows
                continue
            index = self.found
            self.found += 1
            by_condition[item.condition] = by_condition.get(item.condition, 0) + 1
            if not index % 1000:
                self._report()
            if done and item.key in done:
                continue
            if isinstance(item, DiscoveryProblem):
                self._problem(index, item)
            elif isinstance(item, NoReader):
                self._no_reader(index, item)
            elif self.previous is not None and self.previous.match(item, self._key(item), index):
                continue
            else:
                self.queued += 1
                yield FileRef(index, item)
        self.discovery_done = True
        self._phase("discovery")

    def _phase(self, name: str) -> None:
        """Record when a phase ended (seconds since the start; also in the debug log, with the
        coordinator's CPU seconds so far, so that its cost per phase can be told apart)."""
        import resource

        at = time.perf_counter() - self._t0
        self.summary.phases[name] = round(at, 3)
        ru = resource.getrusage(resource.RUSAGE_SELF)
        log.debug(
            "phase %s ended after %.3f s (%d files, process cpu %.3f s)",
            name, at, self.found, ru.ru_utime + ru.ru_stime,
        )

    def _key(self, entry: FileEntry) -> str:
        return safe_text(entry.rel_path if self.settings.omit_base_dir else entry.path)

    def _up_to_date(self) -> bool:
        """``--incremental`` found nothing new, changed or removed: keep the report as it is.

        Rewriting an identical report would cost more than the whole check.
        """
        prev = self.previous
        if prev is None or self.summary.stats.files or prev.new or prev.changed or prev.removed:
            return False
        if len(prev.reuse) != len(prev.files) or not prev.same_report(self.footer()):
            return False
        import pyarrow.parquet as pq

        self.writer.abort()
        self.summary.reused = len(prev.reuse)
        self.summary.incremental = {"reused": len(prev.reuse), "new": 0, "changed": 0, "removed": 0}
        self.summary.rows = pq.ParquetFile(prev.path).metadata.num_rows
        log.info("nothing changed since the existing report; it is kept as it is")
        return True

    def _copy_previous(self) -> None:
        """Add the reused rows of unchanged files (``--incremental``)."""
        prev = self.previous
        if prev is None:
            return
        from pixel_patrol_base.incremental import reused_tables

        for table in reused_tables(prev, self.project.base_dir, self.settings.omit_base_dir, self.ctx.part_schema):
            self.writer.add(relative_table(table, self.forms))
            self.writer.complete([])
        self.summary.reused = len(prev.reuse)
        self.summary.incremental = {"reused": len(prev.reuse), "new": prev.new, "changed": prev.changed, "removed": prev.removed}

    def _problem(self, index: int, item: DiscoveryProblem) -> None:
        entry = FileEntry(item.path, item.base_dir, item.condition, 0, 0)
        buf = RowBuffer(self.ctx.part_schema)
        base = file_columns(entry, self.ctx.omit_base_dir, self.ctx.known_extensions)
        add_error(buf, index, 0, {**base, "file_size": None, "size_readable": None, "modification_date": None}, "discover", OSError(item.message))
        self._add_table(buf.to_table())
        self.writer.complete([item.key])
        self.summary.stats.files += 1
        self.summary.stats.errors += 1

    def _no_reader(self, index: int, item: NoReader) -> None:
        """An error row for a file of a known image format that no installed loader reads."""
        buf = RowBuffer(self.ctx.part_schema)
        base = file_columns(item.entry, self.ctx.omit_base_dir, self.ctx.known_extensions)
        add_error(buf, index, 0, base, "header", ImageReadError(item.entry.path, item.message))
        self._add_table(buf.to_table())
        self.writer.complete([item.key])
        self.summary.stats.files += 1
        self.summary.stats.errors += 1

    def _loop(self, ex: Executor, fresh: Iterator[Task]) -> None:
        window = 2 * ex.n_workers + 2
        queue: deque[Task] = deque()
        in_flight = 0
        while True:
            while in_flight < window:
                task = queue.popleft() if queue else next(fresh, None)
                if task is None:
                    break
                self.summary.tasks[task.kind] = self.summary.tasks.get(task.kind, 0) + 1
                ex.submit(execute, task, task)
                in_flight += 1
            if in_flight == 0:
                break
            task, result, exc = ex.next_done()
            in_flight -= 1
            queue.extend(self._handle(task, result, exc))

    def _add_table(self, table: pa.Table) -> None:
        """Rows made in this process: paths made relative (``--omit-base-dir``), then kept."""
        table = relative_table(table, self.forms)
        self._note_errors(table)
        self.writer.add(table)

    def _handle(self, task: Task, result: TaskOutcome | None, exc: BaseException | None) -> list[Task]:
        if isinstance(exc, ContractError):  # a broken plugin stops the run (docs/plugins.md)
            raise exc.at(task.ref.entry.path) if isinstance(task, ChunkTask) else exc
        if exc is not None:
            log.debug("task %s failed: %r", task.kind, exc)
            out = self.flow.failed(task, exc)
        else:
            assert result is not None  # an executor sets the result of a task that did not fail
            out = self.flow.done(task, result)
        for table in out.tables:
            if isinstance(table, StoredPart):  # already relative: written by a worker
                if table.errors is not None:
                    self._note_errors(table.errors)
                self.writer.add_part(table)
            else:
                self._add_table(table)
        self.writer.complete(out.completed)
        self.summary.stats.merge(out.stats)
        self._report()
        return out.tasks

    def _report(self) -> None:
        """Tell the progress callback where the run is (files finished inside running tasks
        count too, so progress moves per file)."""
        if self.progress is None:
            return
        ex = self._executor_now
        in_flight = ex.files_in_flight() if ex is not None else 0
        # never backwards: a finished task's files leave the in-flight count a moment before
        # they are added to the summary
        self._shown = max(self._shown, self.summary.files + in_flight)
        self.progress(self._shown, self.found, self.discovery_done)

    def _note_errors(self, table: pa.Table) -> None:
        """Log every error row (the log file lists each failed file once) and keep the first
        few for the end-of-run summary. Tables without errors cost one null count."""
        err = table.column("error")
        if err.null_count == len(err):
            return
        import pyarrow.compute as pc

        cols = ["imported_path", "child_id", "error_stage", "error", "path"]
        rows = table.filter(pc.is_valid(err)).select(cols)
        for path, child, stage, cause, cond in zip(*(rows.column(i).to_pylist() for i in range(5)), strict=True):
            where = f"{path} [{child}]" if child else path
            log.debug("failed: %s: %s (stage %s)", where, cause, stage)
            self.summary.note_failure(where, stage, cause, cond)

    def footer(self) -> dict[str, Any]:
        """Project metadata for the report footer (no absolute base with ``--omit-base-dir``)."""
        result: dict[str, Any] = relative_json(valid_json(self._footer()), self.forms)
        return result

    def _footer(self) -> dict[str, Any]:
        from pixel_patrol_base.versions import package_versions

        p, s = self.project, self.settings
        prov = self.fingerprint["versions"]
        return {
            "name": p.name,
            "description": p.description,
            "flavor": p.flavor,
            "created_at": datetime.now(UTC).isoformat(),
            "tool_version": __version__,
            "package_versions": package_versions(prov),
            "plugins": prov,
            "base_dir": None if s.omit_base_dir else safe_text(str(p.base_dir)),
            "paths": [safe_text(str(x.relative_to(p.base_dir))) for x in p.paths],
            "loader": p.loader,
            "processors": [q.NAME for q in self.ctx.processors],
            "settings": s.to_json(),
            "processing_stats": self.summary.to_json(),
            "fingerprint": self.fingerprint,
        }


SMALL_RUN_FILES = 32
SMALL_RUN_BYTES = 8 * 2**20


def _small(first: list[BatchTask]) -> bool:
    """A run of one task with a few small files: forking workers would cost more than it saves
    (each would load the compiled kernels for its pixel types again)."""
    if len(first) != 1:
        return not first
    files = first[0].files
    return len(files) <= SMALL_RUN_FILES and sum(f.entry.size for f in files) <= SMALL_RUN_BYTES


RAMP = (1, 4, 8, 16, 32, 64, 128)
"""Sizes of the first batches on local workers; later batches keep the planner's size."""


def _ramp_up(tasks: Iterator[BatchTask]) -> Iterator[BatchTask]:
    """Batches cut small at the start of a run, then growing to the planner's size.

    The first file runs alone, in the coordinator, before any worker exists: it pays the
    one-time costs (imports, reader set-up, loading compiled kernels) that the forked workers
    then inherit. Small early batches spread a short run evenly over the workers; large later
    ones keep the per-task cost of a long run negligible.
    """
    sizes = iter(RAMP)
    size: int | None = next(sizes)
    for task in tasks:
        files = task.files
        while files and size is not None:
            yield BatchTask(files[:size])
            files = files[size:]
            size = next(sizes, None)
        if files:
            yield BatchTask(files)

__all__ = ["BatchTask", "Coordinator", "RunSummary", "SupportsWatch", "build_context"]
