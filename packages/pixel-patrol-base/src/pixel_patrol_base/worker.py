"""What a worker does with a task. Plain functions of plain values: no Dask in here.

A failure inside one file becomes an error row for that file (this module is the one per-file
boundary where any exception is caught); the other files of the task are unaffected.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pyarrow as pa

from pixel_patrol_base.contracts import (
    ImageContext,
    ImageFile,
    ImageHeader,
    Loader,
    MemoryProcessor,
    PlaneProgram,
    PlaneTile,
    Processor,
    TiledProcessor,
    is_tiled,
)
from pixel_patrol_base.errors import ContractError, ImageReadError, exception_text, one_line
from pixel_patrol_base.fileinfo import file_columns
from pixel_patrol_base.parts import StoredPart
from pixel_patrol_base.pathtext import message_text
from pixel_patrol_base.planning import BatchTask, FileRef
from pixel_patrol_base.plugin_outputs import loader_headers
from pixel_patrol_base.rows import RowBuffer, row_key
from pixel_patrol_base.schema import with_order


@dataclass(frozen=True, slots=True)
class WorkContext:
    """Everything a worker needs besides the task; sent to each worker once."""

    loader: Loader | None
    processors: tuple[Processor, ...]
    slice_size: Mapping[str, int]
    schema: pa.Schema
    omit_base_dir: bool
    budget_bytes: int
    max_images: int
    spill_dir: str | None = None
    """Where workers write the part files of their tasks themselves (None: send rows)."""
    spill_token: str | None = None
    """The run's token in ``spill_dir``: a worker on another host writes parts only where it
    finds it (a shared file system), else it sends its rows (None: local workers, no check)."""
    private_forms: tuple[str, ...] = ()
    """With ``--omit-base-dir``: the spellings of the base folder that rows written by a worker
    must not contain (:func:`~pixel_patrol_base.privacy.relative_table`)."""

    @property
    def part_schema(self) -> pa.Schema:
        """Report schema plus the ordering key."""
        return with_order(self.schema)

    @property
    def halo(self) -> int:
        """Largest neighbourhood support of the tiled processors (0 without any)."""
        return max((int(p.HALO) for p in self.processors if is_tiled(p)), default=0)

    @property
    def known_extensions(self) -> frozenset[str]:
        """Compound extensions the loader knows (for the ``file_extension`` column)."""
        return self.loader.SUPPORTED_EXTENSIONS if self.loader else frozenset()


@dataclass(slots=True)
class TaskStats:
    """Counters a task reports back; summed by the coordinator into the footer."""

    files: int = 0
    images: int = 0
    errors: int = 0
    load_s: float = 0.0
    proc_s: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    cpu_s: float = 0.0
    """CPU seconds the tasks took where they ran (the workers' share of a run's CPU)."""

    def merge(self, other: TaskStats) -> None:
        """Add ``other`` into this one."""
        self.cpu_s += other.cpu_s
        self.files += other.files
        self.images += other.images
        self.errors += other.errors
        self.load_s += other.load_s
        for k, v in other.proc_s.items():
            self.proc_s[k] = self.proc_s.get(k, 0.0) + v
        self.peak_rss_mb = max(self.peak_rss_mb, other.peak_rss_mb)


@dataclass(frozen=True, slots=True)
class Deferred:
    """A file the worker did not process because it needs its own tasks (large or container)."""

    ref: FileRef
    headers: tuple[ImageHeader, ...]


@dataclass(slots=True)
class TaskResult:
    """Rows of the finished files, files handed back for planning, and counters.

    ``table`` is the rows themselves, or a :class:`~pixel_patrol_base.parts.StoredPart` when
    the worker wrote them to a part file.
    """

    table: pa.Table | StoredPart
    deferred: list[Deferred]
    stats: TaskStats


def describe(exc: BaseException) -> str:
    """One line saying what went wrong, for the ``error`` column."""
    text = exc.cause if isinstance(exc, ImageReadError) else exception_text(exc, limit=None)
    return one_line(message_text(text))


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_progress_hook: Callable[[int], None] | None = None


def set_progress_hook(hook: Callable[[int], None] | None) -> None:
    """Have ``hook(1)`` called after each file a batch finishes (per-file progress)."""
    global _progress_hook
    _progress_hook = hook


def run_batch(task: BatchTask, ctx: WorkContext) -> TaskResult:
    """Process the files of a batch task one after the other."""
    buf = RowBuffer(ctx.part_schema)
    stats = TaskStats()
    deferred: list[Deferred] = []
    procs = timed(ctx.processors, stats)
    for ref in task.files:
        d = process_file(ref, ctx, procs, buf, stats)
        if d is not None:
            deferred.append(d)
        elif _progress_hook is not None:
            _progress_hook(1)
    stats.peak_rss_mb = peak_rss_mb()
    return TaskResult(buf.to_table(), deferred, stats)


def process_file(
    ref: FileRef,
    ctx: WorkContext,
    procs: Sequence[Processor],
    buf: RowBuffer,
    stats: TaskStats,
) -> Deferred | None:
    """Add the rows of one file to ``buf``, or hand it back when it needs its own tasks."""
    base = file_columns(ref.entry, ctx.omit_base_dir, ctx.known_extensions)
    if ctx.loader is None:
        buf.add(row_key(ref.index), {**base, "obs_level": 0})
        stats.files += 1
        return None
    t0 = time.perf_counter()
    try:
        if ref.entry.size == 0 and not ref.entry.is_dir:
            raise ImageReadError(ref.entry.path, "empty file (0 bytes)")
        f = ctx.loader.open(ref.entry.path)
        headers = tuple(f.images)
        loader_headers(ctx.loader, headers)
        check_plausible(ref, headers, f)
    except ContractError as exc:  # a broken plugin stops the run (docs/plugins.md)
        raise exc.at(ref.entry.path) from None
    except Exception as exc:  # noqa: BLE001 - per-file boundary: any failure becomes an error row
        add_error(buf, ref.index, 0, base, "header", exc)
        stats.files += 1
        stats.errors += 1
        return None
    stats.load_s += time.perf_counter() - t0
    with f:
        if needs_own_tasks(headers, ctx):
            return Deferred(ref, headers)
        for i, header in enumerate(headers):
            process_image(f, i, header, len(headers), ref, base, ctx, procs, buf, stats)
    stats.files += 1
    return None


BOMB_RATIO = 2000
"""Uncompressed pixels may exceed the file size by at most this factor (above BOMB_MIN_BYTES)."""

BOMB_MIN_BYTES = 2**30


def check_plausible(ref: FileRef, headers: Sequence[ImageHeader], f: ImageFile) -> None:
    """Refuse files whose headers declare far more pixels than the file could hold.

    A corrupt or malicious header (e.g. 100,000 × 100,000 × 1,000 pixels in a 1 kB TIFF) would
    otherwise be planned as thousands of chunks. Folder datasets are exempt: missing zarr
    chunks legitimately stand for fill values.
    """
    if ref.entry.is_dir:
        return
    declared = sum(h.nbytes for h in headers)
    if declared > BOMB_MIN_BYTES and declared > BOMB_RATIO * max(ref.entry.size, 1):
        f.close()
        raise ImageReadError(
            ref.entry.path,
            f"header declares {declared / 1e9:.1f} GB of pixels in a {ref.entry.size / 1e3:.1f} kB file;"
            " refusing to decode (corrupt header or decompression bomb)",
        )


def needs_own_tasks(headers: Sequence[ImageHeader], ctx: WorkContext) -> bool:
    """Whether a file is too big for a batch: an image over budget, or a heavy container."""
    if any(h.nbytes > ctx.budget_bytes for h in headers):
        return True
    return len(headers) > ctx.max_images or (
        len(headers) > 1 and sum(h.nbytes for h in headers) > ctx.budget_bytes
    )


def process_image(
    f: ImageFile,
    index: int,
    header: ImageHeader,
    n_images: int,
    ref: FileRef,
    base: Mapping[str, Any],
    ctx: WorkContext,
    procs: Sequence[Processor],
    buf: RowBuffer,
    stats: TaskStats,
) -> None:
    """Read one image, compute its rows and add them to ``buf`` (or one error row)."""
    from pixel_patrol_base import engine

    const = {**base, **image_constants(header, n_images)}
    key = row_key(ref.index, index)
    stats.images += 1
    t0 = time.perf_counter()
    try:
        array = f.read(index)
    except Exception as exc:  # noqa: BLE001 - per-image boundary: a failed decode is data
        add_error(buf, ref.index, index, const, "load", exc)
        stats.errors += 1
        return
    stats.load_s += time.perf_counter() - t0
    try:
        rows = engine.process_image(np.asarray(array), header, ctx.slice_size, procs)
    except ContractError as exc:  # a broken plugin stops the run (docs/plugins.md)
        raise exc.at(ref.entry.path) from None
    except Exception as exc:  # noqa: BLE001 - per-image boundary: a processor failure is data
        add_error(buf, ref.index, index, const, "process", exc)
        stats.errors += 1
        return
    add_image_rows(buf, key, const, rows)


def add_image_rows(
    buf: RowBuffer, key: int, const: Mapping[str, Any], rows: Mapping[str, Sequence[Any]]
) -> None:
    """Add engine rows with the image's constant columns."""
    n = len(rows["obs_level"])
    buf.add(key, const, rows, n)


def image_constants(header: ImageHeader, n_images: int) -> dict[str, Any]:
    """Columns that are the same on every row of an image."""
    return {
        **dict(header.metadata),
        "dim_order": header.dim_order,
        "dtype": header.dtype,
        "ndim": len(header.dim_order),
        "n_images": n_images,
        "child_id": header.child_id,
    }


def add_error(
    buf: RowBuffer,
    file_index: int,
    image_index: int,
    const: Mapping[str, Any],
    stage: str,
    exc: BaseException,
) -> None:
    """One obs_level-0 row saying why a file (or sub-image) has no statistics."""
    extra: dict[str, Any] = {"obs_level": 0, "error": describe(exc), "error_stage": stage}
    if isinstance(exc, ImageReadError) and exc.reader:
        extra["reader"] = exc.reader
    buf.add(row_key(file_index, image_index), {**const, **extra})


class _Timed:
    """A processor wrapper that adds the seconds spent in it to the task's counters.

    A tiled processor's wrapper forwards its halo and times its plane programs too.
    """

    def __init__(self, proc: Processor, stats: TaskStats) -> None:
        self._proc = proc
        self._stats = stats
        self.NAME = proc.NAME
        self.KIND = proc.KIND
        self.COLUMNS = proc.COLUMNS
        self.NEEDS_RANGE = proc.NEEDS_RANGE
        if is_tiled(proc):
            self.HALO = proc.HALO

    def _add(self, t0: float) -> None:
        s = self._stats.proc_s
        s[self.NAME] = s.get(self.NAME, 0.0) + time.perf_counter() - t0

    def run(self, *args: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return self._proc.run(*args)
        finally:
            self._add(t0)

    def finish(self, *args: Any) -> Any:
        """The wrapped memory processor's ``finish``, timed (only called on memory processors)."""
        proc = cast("MemoryProcessor", self._proc)  # the engine calls finish on no other kind
        t0 = time.perf_counter()
        try:
            return proc.finish(*args)
        finally:
            self._add(t0)

    def program(self, image: ImageContext, shape: tuple[int, int]) -> PlaneProgram:
        """The wrapped processor's plane program, timed (only defined for tiled processors)."""
        proc = cast("TiledProcessor", self._proc)  # only a tiled processor's wrapper is asked
        return _TimedProgram(proc.program(image, shape), self)


class _TimedProgram:
    """A plane program whose passes add their seconds to the processor's counter."""

    def __init__(self, program: PlaneProgram, owner: _Timed) -> None:
        self._program, self._owner = program, owner

    @property
    def last(self) -> bool:
        return bool(self._program.last)

    def _timed(self, step: Callable[[Any], Any], arg: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return step(arg)
        finally:
            self._owner._add(t0)

    def visit(self, tile: PlaneTile) -> Any:
        return self._timed(self._program.visit, tile)

    def merge(self, partials: Sequence[Any]) -> Any:
        return self._timed(self._program.merge, partials)

    def advance(self, merged: Any) -> PlaneProgram:
        return _TimedProgram(self._timed(self._program.advance, merged), self._owner)

    def finish(self, merged: Any) -> Mapping[str, float]:
        result: Mapping[str, float] = self._timed(self._program.finish, merged)
        return result


def timed(procs: Sequence[Processor], stats: TaskStats) -> list[Processor]:
    """The processors wrapped so that their seconds add up in ``stats.proc_s``."""
    # the wrapper copies its processor's class-level declarations onto the instance
    return [_Timed(p, stats) for p in procs]  # type: ignore[misc]
