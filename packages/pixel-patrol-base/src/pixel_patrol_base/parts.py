"""Part files: the sorted pieces of a report before the final merge.

A part is an Arrow IPC file sorted by the row key ``_order``. IPC is written and read back at
memory speed (Parquet's encoding is paid once, for the report itself), and a memory-mapped part
is read batch by batch without copying. Parts written on the coordinator's machine are not
compressed: they are read once, by the final merge, and deleted, and LZ4 on rows that are mostly
thumbnails halved their size but cost about 0.1 ms per row to write and as much again to read
back on the merge's serial path. Workers on other hosts compress theirs (``compress=True``):
those bytes cross a shared file system.

Local workers write the parts of their own tasks (:func:`store_table`), in parallel, and hand
the coordinator only the file's name and its error rows: the coordinator never receives, copies
or compresses those rows.

The final merge (:func:`merge_parts`) streams: parts cover mostly disjoint key ranges (a
batch task holds consecutive files), so they are first lined up into chains of parts whose
ranges follow one another, and only the chains are merged, k-way, over record batches.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from pixel_patrol_base.schema import ORDER_FIELD

BATCH_BYTES = 2 * 2**20
"""Target size of a record batch in a part file: the final merge holds one per chain."""

FAN_IN = 32
"""Chains merged at once; with more, groups of chains are merged into larger parts first."""

STORE_MIN_BYTES = 1 * 2**20
"""A worker writes its rows to a part itself from this size on; smaller tables travel back."""

_seq = itertools.count()

_TAG = secrets.token_hex(4)
"""Random per import: with the pid, names parts uniquely across the hosts of a cluster."""

TOKEN_FILE = "token"
"""File in the parts folder holding the run's token (see :func:`reachable`)."""

_reachable: dict[tuple[str, str], bool] = {}

RANGE_KEY = b"pixel_patrol.part_range"
"""Schema metadata of a part: its smallest and largest key and its row count, so the final
merge lines parts up from their footers without decompressing their rows."""


def batch_rows(table: pa.Table) -> int:
    """Rows per record batch so that a batch holds about ``BATCH_BYTES``."""
    per_row = max(1, table.nbytes // max(table.num_rows, 1))
    result: int = max(16, BATCH_BYTES // per_row)
    return result


def write_part_file(table: pa.Table, path: Path, sync: bool = False, compress: bool = False) -> None:
    """Write ``table`` under a temporary name, then rename it (a part is whole or absent).

    The data reaches the disk when the journal registers the part (:func:`sync_file` on every
    new part, then one folder sync): only then are its files listed as done. Workers therefore
    never wait for the disk; ``sync=True`` syncs here instead (for rewriting a registered part).
    """
    tmp = path.with_suffix(".tmp")
    options = pa.ipc.IpcWriteOptions(compression="lz4" if compress else None)
    table = table.replace_schema_metadata(_range_metadata(table))
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema, options=options) as w:
        w.write_table(table, max_chunksize=batch_rows(table))
    if sync:
        sync_file(tmp)
    os.replace(tmp, path)


def _range_metadata(table: pa.Table) -> dict[bytes, bytes] | None:
    if not table.num_rows:
        return None
    # numpy rather than pyarrow.compute, whose import alone (~0.07 s of CPU) would be paid by
    # every worker process; the order keys are non-null int64, so the bounds are the same.
    keys = table.column(ORDER_FIELD).to_numpy()
    return {RANGE_KEY: f"{int(keys.min())} {int(keys.max())} {table.num_rows}".encode()}


def _stored_range(reader: pa.ipc.RecordBatchFileReader) -> tuple[int, int, int] | None:
    """``(first key, last key, rows)`` from a part's footer (``None`` if it has none)."""
    meta = reader.schema.metadata or {}
    if RANGE_KEY not in meta:
        return None
    lo, hi, n = (int(x) for x in meta[RANGE_KEY].split())
    return lo, hi, n


def sync_file(path: Path) -> None:
    """Flush a file's data to the disk."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def sync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (not possible on every platform)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def part_reader(path: Path) -> pa.ipc.RecordBatchFileReader:
    """Random access to the record batches of a part file (memory-mapped)."""
    return pa.ipc.open_file(pa.memory_map(str(path)))


def read_part(path: Path) -> pa.Table:
    """A whole part file as a table."""
    return part_reader(path).read_all()


def part_rows(path: Path) -> int:
    """Rows in a part file."""
    reader = part_reader(path)
    if (stored := _stored_range(reader)) is not None:
        return stored[2]
    return sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))


SLICED_RUNS = 64
"""Sorted orders of at most this many runs of consecutive rows are assembled from slices."""


def sort_rows(table: pa.Table) -> pa.Table:
    """Rows by key; rows of one key keep their order.

    Rows to sort usually come as a few tables, each sorted and covering its own key range
    (the batches of a run): their order is a few runs of consecutive rows, put together from
    zero-copy slices. Only a finer shuffle is gathered row by row (``take``), which copies
    every thumbnail and, on its first call in a process, imports ``pyarrow.compute``.
    """
    keys = table.column(ORDER_FIELD).to_numpy()
    if len(keys) < 2 or bool(np.all(keys[1:] >= keys[:-1])):
        return table
    order = np.argsort(keys, kind="stable")
    starts = np.flatnonzero(np.diff(order, prepend=-2) != 1)
    if len(starts) > SLICED_RUNS:
        return _gather(table, order)
    lengths = np.diff(starts, append=len(order))
    return pa.concat_tables(
        [table.slice(int(order[s]), int(n)) for s, n in zip(starts, lengths, strict=True)]
    )


def _gather(table: pa.Table, order: np.ndarray) -> pa.Table:
    """The rows of ``table`` in ``order``, copied one by one."""
    return table.take(pa.array(order))


@dataclass(frozen=True, slots=True)
class StoredPart:
    """Rows a worker wrote to a part file itself: where, how many, and its error rows."""

    path: str
    num_rows: int
    errors: pa.Table | None
    """The part's error rows; ``None`` when there are none (nothing to send back)."""


def reachable(folder: str, token: str | None) -> bool:
    """Whether this worker sees the run's parts folder (checked once per process and run).

    A local worker always does (``token`` None). A worker on another host does when the folder
    is on a file system both share: the folder then holds this run's ``token``. Any other
    worker sends its rows back to the coordinator instead.
    """
    if token is None:
        return True
    key = (folder, token)
    if key not in _reachable:
        try:
            _reachable[key] = (Path(folder) / TOKEN_FILE).read_text() == token
        except (OSError, UnicodeDecodeError):
            _reachable[key] = False
    return _reachable[key]


def store_table(table: pa.Table, folder: str, compress: bool = False) -> StoredPart:
    """Write a task's rows as a part in ``folder`` (run on the worker; ``compress`` on another
    host than the coordinator's)."""
    path = Path(folder) / f"part-w{os.getpid()}-{_TAG}-{next(_seq):06d}.arrow"
    write_part_file(sort_rows(table), path, compress=compress)
    column = table.column("error") if "error" in table.column_names else None
    failed = column is not None and column.null_count < len(column)
    errors = _error_rows(table, column) if failed else None
    return StoredPart(str(path), table.num_rows, errors)


def _error_rows(table: pa.Table, column: pa.ChunkedArray) -> pa.Table:
    """The rows whose ``column`` (the error text) is set."""
    import pyarrow.compute as pc  # imported here: most tasks have no error rows

    return table.filter(pc.is_valid(column))


# ------------------------------------------------------------------ the final merge


class _Chain:
    """One sorted stream of batches: parts whose key ranges follow one another, or rows held
    in memory (already sorted)."""

    def __init__(self, source: list[Path] | pa.Table) -> None:
        self._batches = _batches_of(source)
        self.table: pa.Table | None = None
        self.keys = np.empty(0, np.int64)
        self._load()

    def _load(self) -> None:
        for batch in self._batches:
            if batch.num_rows:
                self.table = pa.Table.from_batches([batch]).replace_schema_metadata(None)
                self.keys = batch.column(ORDER_FIELD).to_numpy()
                return
        self.table, self.keys = None, np.empty(0, np.int64)

    def take_upto(self, bound: int) -> pa.Table | None:
        """Rows with key ≤ ``bound`` from the current batch (moving on when it is used up)."""
        assert self.table is not None
        n = int(np.searchsorted(self.keys, bound, side="right"))
        if n == 0:
            return None
        head = self.table.slice(0, n)
        if n == len(self.keys):
            self._load()
        else:
            self.table, self.keys = self.table.slice(n), self.keys[n:]
        return head


def _batches_of(source: list[Path] | pa.Table) -> Iterator[pa.RecordBatch]:
    """The record batches of a table, or of part files one after the other (one file open at
    a time)."""
    if isinstance(source, pa.Table):
        yield from source.to_batches()
        return
    for path in source:
        reader = part_reader(path)
        for i in range(reader.num_record_batches):
            yield reader.get_batch(i)


def _key_range(path: Path) -> tuple[int, int] | None:
    reader = part_reader(path)
    if (stored := _stored_range(reader)) is not None:
        return stored[0], stored[1]
    ends = []
    for i in range(reader.num_record_batches):
        keys = reader.get_batch(i).column(ORDER_FIELD)
        if len(keys):
            ends += [int(keys[0].as_py()), int(keys[-1].as_py())]
    return (ends[0], ends[-1]) if ends else None


def chains(parts: list[Path]) -> list[list[Path]]:
    """Line parts up into as few chains of consecutive key ranges as possible.

    Sorted by first key, each part joins the first chain that ends before it starts (the
    greedy colouring of intervals, which needs as many chains as ranges overlap at most).
    """
    ranged = sorted((r, p) for p in parts if (r := _key_range(p)) is not None)
    out: list[list[Path]] = []
    ends: list[int] = []
    for (lo, hi), path in ranged:
        for i, end in enumerate(ends):
            if end < lo:
                out[i].append(path)
                ends[i] = hi
                break
        else:
            out.append([path])
            ends.append(hi)
    return out


def merge_parts(
    parts: list[Path], scratch: Path, held: pa.Table | None = None
) -> Iterator[pa.Table]:
    """Yield the rows of sorted part files (and the sorted rows ``held`` in memory) in global
    ``_order`` order, streaming.

    Every part is sorted and each key's rows lie in one part, so a k-way merge over record
    batches suffices: each round takes, from every chain's current batch, the rows up to the
    smallest last key among them (no later row can sort before those), and sorts only those
    when more than one chain contributed. Memory holds one batch per chain whatever the number
    of rows; more than ``FAN_IN`` chains are first merged in groups.
    """
    lines: list[list[Path] | pa.Table] = [*chains(parts)]
    if held is not None and held.num_rows:
        lines.append(held)
    level = 0
    while len(lines) > FAN_IN:
        merged: list[list[Path] | pa.Table] = []
        for g in range(0, len(lines), FAN_IN):
            out = scratch / f"merge-{level}-{g // FAN_IN:06d}.arrow"
            _write_stream(_kway(lines[g : g + FAN_IN]), out)
            merged.append([out])
        lines, level = merged, level + 1
    yield from _kway(lines)


def _write_stream(tables: Iterator[pa.Table], out: Path) -> None:
    writer = None
    options = pa.ipc.IpcWriteOptions()
    try:
        for table in tables:
            if writer is None:
                writer = pa.ipc.new_file(str(out), table.schema, options=options)
            writer.write_table(table, max_chunksize=batch_rows(table))
    finally:
        if writer is not None:
            writer.close()


def _kway(lines: list[list[Path] | pa.Table]) -> Iterator[pa.Table]:
    cursors = [c for c in (_Chain(line) for line in lines) if c.table is not None]
    while cursors:
        bound = min(int(c.keys[-1]) for c in cursors)
        pieces = [t for c in cursors if (t := c.take_upto(bound)) is not None]
        if len(pieces) == 1:
            yield pieces[0]
        else:
            yield sort_rows(pa.concat_tables(pieces))
        cursors = [c for c in cursors if c.table is not None]


__all__ = ["StoredPart", "merge_parts", "read_part", "store_table", "write_part_file"]
