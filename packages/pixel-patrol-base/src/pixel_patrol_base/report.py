"""Streaming Parquet report writer and reader.

Rows arrive in any order as Arrow tables tagged with their file's discovery index. They are
buffered and spilled to sorted part files every ``rows_per_part`` rows, so the coordinator never
holds the whole report. ``finish`` merges the parts in discovery order into one zstd Parquet file
with row groups of exactly ``row_group_size`` rows, written under a temporary name beside the
output and renamed at the end: an interrupted run never leaves a partial report, and a failed
run leaves an older report untouched.
"""

from __future__ import annotations

import json
import os
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pixel_patrol_base.errors import ReportError
from pixel_patrol_base.interrupts import deferred
from pixel_patrol_base.journal import Journal
from pixel_patrol_base.project import ProjectMetadata
from pixel_patrol_base.schema import INTERNAL_FIELDS, ORDER_FIELD, with_order

META_PREFIX = "pixel_patrol."
PART_CACHE = 4


def temp_path(output: Path) -> Path:
    """Hidden temporary file the final report is written to before the rename."""
    return output.with_name(f".{output.name}.tmp-{os.getpid()}")


def parts_dir(output: Path) -> Path:
    """Hidden folder of spilled part files, beside the output."""
    return output.with_name(f".{output.name}.parts")


SPILL_SECONDS = 30.0
"""Buffered rows older than this are spilled even below ``rows_per_part`` (bounds lost work)."""


class ReportWriter:
    """Collects rows, spills sorted parts, writes the final report atomically.

    Parts live in a :class:`~pixel_patrol_base.journal.Journal`, so an interrupted run keeps its
    completed work and ``resume=True`` continues from it.
    """

    def __init__(
        self,
        output: Path,
        schema: pa.Schema,
        rows_per_part: int,
        row_group_size: int,
        fingerprint: Mapping[str, Any] | None = None,
        resume: bool = False,
    ) -> None:
        self.output = output
        self.schema = schema
        self.part_schema = with_order(schema)
        self.rows_per_part = rows_per_part
        self.row_group_size = row_group_size
        self.journal = Journal(parts_dir(output))
        self.journal.start(fingerprint or {}, resume)
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self._pending_done: list[str] = []
        self._last_spill = time.monotonic()
        self.resumed_rows = sum(pq.ParquetFile(p).metadata.num_rows for p in self.journal.parts)
        self.rows = self.resumed_rows

    @property
    def parts(self) -> list[Path]:
        """Part files written so far (including resumed ones)."""
        return self.journal.parts

    @property
    def done(self) -> set[str]:
        """Absolute paths of files whose rows are safely in part files."""
        return self.journal.done

    def add(self, table: pa.Table) -> None:
        """Add rows (``table`` has the part schema: report columns plus internal columns)."""
        if table.num_rows == 0:
            return
        self._buffer.append(table)
        self._buffered += table.num_rows
        self.rows += table.num_rows

    def complete(self, paths: list[str]) -> None:
        """Files whose rows have all been added; spills when the buffer is full or old."""
        self._pending_done += paths
        full = self._buffered >= self.rows_per_part
        if full or time.monotonic() - self._last_spill > SPILL_SECONDS:
            self._spill()

    def _sorted_buffer(self) -> pa.Table:
        table = pa.concat_tables(self._buffer) if self._buffer else self.part_schema.empty_table()
        order = table.column(ORDER_FIELD).to_numpy()
        idx = np.argsort(order, kind="stable")
        return table.take(pa.array(idx)) if len(idx) else table

    def _spill(self) -> None:
        """Write the buffer as a part, then list its completed files as done.

        Interrupts are held until both are written, so the journal never lists a file as done
        whose rows are not in a part, and never holds a file's rows twice.
        """
        with deferred():
            self._last_spill = time.monotonic()
            if self._buffered:
                self.journal.write_part(self._sorted_buffer())
                self._buffer, self._buffered = [], 0
            self.journal.mark_done(self._pending_done)
            self._pending_done = []

    def interrupt(self) -> None:
        """Keep completed work on disk for ``--resume`` (called when a run is cut short)."""
        try:
            self._spill()
        finally:
            temp_path(self.output).unlink(missing_ok=True)

    def finish(self, metadata: Mapping[str, Any]) -> int:
        """Write the final report with footer ``metadata``; returns the number of rows."""
        tmp = temp_path(self.output)
        schema = self.schema.with_metadata(encode_metadata(metadata))
        try:
            with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
                sink = _RowGroupSink(writer, self.row_group_size, schema)
                for table in self._ordered_tables():
                    sink.write(table.drop_columns(list(INTERNAL_FIELDS)))
                sink.close()
            os.replace(tmp, self.output)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ReportError(f"cannot write report '{self.output}': {exc.strerror or exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)
        self.journal.remove()
        return self.rows

    def abort(self) -> None:
        """Forget everything written so far (temporary files included)."""
        temp_path(self.output).unlink(missing_ok=True)
        self.journal.remove()

    def _ordered_tables(self) -> Iterator[pa.Table]:
        if not self.parts:
            table = self._sorted_buffer()
            self._buffer, self._buffered = [], 0
            yield table
            return
        self._spill()
        yield from _merge_parts(self.parts)


class _RowGroupSink:
    """Writes row groups of exactly ``size`` rows (the last may be shorter)."""

    def __init__(self, writer: pq.ParquetWriter, size: int, schema: pa.Schema) -> None:
        self.writer, self.size, self.schema = writer, size, schema
        self.pending: list[pa.Table] = []
        self.n = 0

    def write(self, table: pa.Table) -> None:
        self.pending.append(table.replace_schema_metadata(self.schema.metadata))
        self.n += table.num_rows
        if self.n >= self.size:
            full = pa.concat_tables(self.pending)
            cut = (self.n // self.size) * self.size
            self.writer.write_table(full.slice(0, cut), row_group_size=self.size)
            rest = full.slice(cut)
            self.pending, self.n = ([rest] if rest.num_rows else []), rest.num_rows

    def close(self) -> None:
        if self.n:
            self.writer.write_table(pa.concat_tables(self.pending), row_group_size=self.size)


def _merge_parts(parts: list[Path]) -> Iterator[pa.Table]:
    """Yield the rows of sorted part files in global ``_order`` order.

    Each file's rows are contiguous in one part, so the merge works on runs of equal keys: read
    every part's key column (8 bytes a row), sort the runs, and copy runs out of the parts,
    keeping at most a few parts in memory.
    """
    runs = []
    for pi, path in enumerate(parts):
        keys = pq.read_table(path, columns=[ORDER_FIELD]).column(0).to_numpy()
        if not len(keys):
            continue
        cut = np.flatnonzero(np.diff(keys)) + 1
        starts = np.r_[0, cut]
        ends = np.r_[cut, len(keys)]
        runs.append(np.stack([keys[starts], np.full(len(starts), pi), starts, ends], axis=1))
    if not runs:
        return
    allruns = np.concatenate(runs)
    allruns = allruns[np.lexsort((allruns[:, 2], allruns[:, 1], allruns[:, 0]))]
    cache: OrderedDict[int, pa.Table] = OrderedDict()
    for part, start, end in _coalesce(allruns):
        yield _part(cache, parts, part).slice(start, end - start)


def _coalesce(runs: np.ndarray) -> Iterator[tuple[int, int, int]]:
    part, start, end = int(runs[0, 1]), int(runs[0, 2]), int(runs[0, 3])
    for _k, p, s, e in runs[1:]:
        if p == part and s == end:
            end = int(e)
            continue
        yield part, start, end
        part, start, end = int(p), int(s), int(e)
    yield part, start, end


def _part(cache: OrderedDict[int, pa.Table], parts: list[Path], i: int) -> pa.Table:
    if i in cache:
        cache.move_to_end(i)
        return cache[i]
    table = pq.read_table(parts[i])
    cache[i] = table
    if len(cache) > PART_CACHE:
        cache.popitem(last=False)
    return table


def encode_metadata(meta: Mapping[str, Any]) -> dict[bytes, bytes]:
    """Footer key/values: ``pixel_patrol.<key>`` → JSON."""
    return {
        (META_PREFIX + k).encode(): json.dumps(v, default=str, ensure_ascii=False).encode()
        for k, v in meta.items()
    }


def decode_metadata(raw: Mapping[bytes, bytes] | None) -> dict[str, Any]:
    """Inverse of :func:`encode_metadata`; foreign keys are ignored, bad JSON kept as text."""
    out: dict[str, Any] = {}
    for k, v in (raw or {}).items():
        key = k.decode(errors="replace")
        if not key.startswith(META_PREFIX):
            continue
        try:
            out[key[len(META_PREFIX):]] = json.loads(v)
        except ValueError:
            out[key[len(META_PREFIX):]] = v.decode(errors="replace")
    return out


def read_report(
    path: str | os.PathLike[str], columns: list[str] | None = None
) -> tuple[pa.Table, ProjectMetadata]:
    """Read a report: its rows as an Arrow table and the footer as :class:`ProjectMetadata`.

    ``columns`` reads only those columns (all by default), e.g. to leave out thumbnails.
    """
    p = Path(path)
    if not p.is_file():
        raise ReportError(f"report '{p}' does not exist")
    try:
        table = pq.read_table(p, columns=columns)
    except (OSError, pa.ArrowException) as exc:
        raise ReportError(f"'{p}' is not a readable Parquet report: {exc}") from exc
    meta = decode_metadata(table.schema.metadata)
    fields = {f for f in ProjectMetadata.__dataclass_fields__}
    return table, ProjectMetadata(**{k: v for k, v in meta.items() if k in fields})
