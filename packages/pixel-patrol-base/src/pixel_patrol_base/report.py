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
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pixel_patrol_base.errors import ReportError
from pixel_patrol_base.interrupts import deferred
from pixel_patrol_base.journal import Journal
from pixel_patrol_base.parts import StoredPart, merge_parts, part_rows, sort_rows
from pixel_patrol_base.project import ProjectMetadata
from pixel_patrol_base.schema import INTERNAL_FIELDS, with_order

META_PREFIX = "pixel_patrol."


def temp_path(output: Path) -> Path:
    """Hidden temporary file the final report is written to before the rename."""
    return output.with_name(f".{output.name}.tmp-{os.getpid()}")


def parts_dir(output: Path) -> Path:
    """Hidden folder of spilled part files, beside the output."""
    return output.with_name(f".{output.name}.parts")


SPILL_SECONDS = 30.0
"""Buffered rows older than this are spilled even below ``rows_per_part`` (bounds lost work)."""

SPILL_BYTES = 64 * 2**20
"""Buffered rows are spilled once they hold this many bytes, whatever ``rows_per_part`` says."""

MARK_SECONDS = 1.0
"""How often files whose rows are in worker-written parts are listed as done."""


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
        self._buffered_bytes = 0
        self._pending_done: list[str] = []
        self._last_spill = time.monotonic()
        self.resumed_rows = sum(part_rows(p) for p in self.journal.parts)
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
        self._buffered_bytes += table.nbytes
        self.rows += table.num_rows

    def add_part(self, part: StoredPart) -> None:
        """Add rows a worker already wrote to a part file."""
        if part.num_rows == 0:
            Path(part.path).unlink(missing_ok=True)
            return
        self.journal.add_part(Path(part.path))
        self.rows += part.num_rows

    def complete(self, paths: list[str]) -> None:
        """Files whose rows have all been added; spills when the buffer is full or old.

        The buffer is bounded in rows (``rows_per_part``) and in bytes (``SPILL_BYTES``), so
        rows with large thumbnails do not make the coordinator grow. When rows arrive in part
        files written by workers, their files are listed as done about once a second.
        """
        self._pending_done += paths
        full = self._buffered >= self.rows_per_part or self._buffered_bytes >= SPILL_BYTES
        age = time.monotonic() - self._last_spill
        if full or age > SPILL_SECONDS or (not self._buffered and age > MARK_SECONDS):
            self._spill()

    def _sorted_buffer(self) -> pa.Table:
        table = pa.concat_tables(self._buffer) if self._buffer else self.part_schema.empty_table()
        return sort_rows(table)

    def _spill(self) -> None:
        """Write the buffer as a part, then list its completed files as done.

        Interrupts are held until both are written, so the journal never lists a file as done
        whose rows are not in a part, and never holds a file's rows twice.
        """
        with deferred():
            self._last_spill = time.monotonic()
            if self._buffered:
                self.journal.write_part(self._sorted_buffer())
                self._buffer, self._buffered, self._buffered_bytes = [], 0, 0
            self.journal.mark_done(self._pending_done)
            self._pending_done = []

    def interrupt(self) -> None:
        """Keep completed work on disk for ``--resume`` (called when a run is cut short).

        A run that stops before any file is done (e.g. an unreachable scheduler) leaves
        nothing behind.
        """
        try:
            self._spill()
        finally:
            temp_path(self.output).unlink(missing_ok=True)
            if self.journal.empty:
                self.journal.remove()

    def finish(self, metadata: Mapping[str, Any]) -> int:
        """Write the final report with footer ``metadata``; returns the number of rows."""
        tmp = temp_path(self.output)
        schema = self.schema.with_metadata(encode_metadata(metadata))
        try:
            with pq.ParquetWriter(tmp, schema, compression="zstd", **_encoding(schema)) as writer:
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
        """The report's rows in order. Rows still in memory stay buffered until the report is
        written, and join the merge of the parts from there: if writing fails (a full disk),
        :meth:`interrupt` saves them as a part, and only then are their files listed as done.
        Nothing is synced to disk for a journal the written report makes obsolete."""
        held = self._sorted_buffer()
        if not self.parts:
            yield held
            return
        yield from merge_parts(self.parts, self.journal.folder, held)


def _encoding(schema: pa.Schema) -> dict[str, Any]:
    """Dictionaries and min/max statistics for scalar columns only.

    Thumbnails and histograms are (nearly) unique per row: a dictionary attempt for them is
    wasted work before the writer falls back, and min/max of a thumbnail's bytes says nothing.
    """
    scalar = [
        f.name for f in schema
        if not (pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)
                or pa.types.is_list(f.type) or pa.types.is_fixed_size_list(f.type))
    ]
    return {"use_dictionary": scalar, "write_statistics": scalar}


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
