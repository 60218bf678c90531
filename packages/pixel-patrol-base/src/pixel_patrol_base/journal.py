"""Durable progress of a run, beside the report: what ``--resume`` continues from.

The parts folder (``.<report>.parts``) holds sorted part files (Arrow IPC files with
LZ4-compressed buffers: written and read back at memory speed, unlike Parquet, whose encoding
is paid once, for the report itself), a ``run.json`` with the
settings that shape the rows, and ``done.txt``: the files whose rows are all in parts already.
A part file is written under a temporary name and renamed, and a file is listed as done only
after the part holding its last row exists, so a crash at any moment leaves a consistent
folder: parts, plus a list of files that never need to be processed again.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.schema import SOURCE_FIELD

RUN_FILE = "run.json"
DONE_FILE = "done.txt"


class Journal:
    """The parts folder of one output: part files, fingerprint and done list."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.parts: list[Path] = []
        self.done: set[str] = set()
        """Files done by the interrupted run being resumed (files done in this run are only
        appended to the done list on disk, so memory does not grow with the dataset)."""
        self.marked = 0

    def start(self, fingerprint: Mapping[str, Any], resume: bool) -> None:
        """Begin a fresh run, or continue an interrupted one with the same fingerprint."""
        if resume and (self.folder / RUN_FILE).is_file():
            old = json.loads((self.folder / RUN_FILE).read_text())
            if old != json.loads(json.dumps(fingerprint, default=str)):
                raise SettingsError(
                    "--resume: the interrupted run used other settings, loader or processors;"
                    " run again without --resume to start over"
                )
            self._load()
            return
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir()
        _atomic_write(self.folder / RUN_FILE, json.dumps(fingerprint, default=str, sort_keys=True))

    def _load(self) -> None:
        done_file = self.folder / DONE_FILE
        lines = done_file.read_text().splitlines() if done_file.exists() else []
        self.done = {p for line in lines if (p := _parse(line)) is not None}
        kept = []
        for path in sorted(self.folder.glob("part-*.arrow")):
            table = read_part(path)
            mask = pc.is_in(table.column(SOURCE_FIELD), value_set=pa.array(sorted(self.done), pa.string()))
            table = table.filter(mask)
            if table.num_rows:
                write_part_file(table, path)
                kept.append(path)
            else:
                path.unlink()
        self.parts = kept

    def next_part(self) -> Path:
        """Path of the next part file (numbers continue after resumed parts)."""
        last = max((int(p.stem.split("-")[1]) for p in self.parts), default=-1)
        return self.folder / f"part-{last + 1:06d}.arrow"

    def write_part(self, table: pa.Table) -> Path:
        """Write a part file atomically and remember it."""
        path = self.next_part()
        write_part_file(table, path)
        self.parts.append(path)
        return path

    def mark_done(self, paths: Iterable[str]) -> None:
        """Record files whose rows are all in part files now (appended and synced)."""
        new = [p for p in paths if p not in self.done] if self.done else list(paths)
        if not new:
            return
        with open(self.folder / DONE_FILE, "a", encoding="utf-8") as f:
            f.write("".join(json.dumps(p) + "\n" for p in new))
            f.flush()
            os.fsync(f.fileno())
        self.marked += len(new)

    @property
    def empty(self) -> bool:
        """Nothing a ``--resume`` could continue from: no part and no file done."""
        return not self.parts and not self.done and not self.marked

    def remove(self) -> None:
        """Delete the folder (after the report is written)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _parse(line: str) -> str | None:
    """One done-list line; a line cut short by a crash is ignored (its file is redone)."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


PART_GROUP_BYTES = 2 * 2**20
"""Target size of a record batch in a part file: the final merge holds one per part."""


def batch_rows(table: pa.Table) -> int:
    """Rows per record batch so that a batch holds about ``PART_GROUP_BYTES``."""
    per_row = max(1, table.nbytes // max(table.num_rows, 1))
    return max(16, PART_GROUP_BYTES // per_row)


def write_part_file(table: pa.Table, path: Path) -> None:
    """Write ``table`` durably: synced to disk under a temporary name, then renamed.

    Only then may its files be listed as done: a file is done when its rows would survive a
    power cut, not merely when they were handed to the operating system.
    """
    tmp = path.with_suffix(".tmp")
    options = pa.ipc.IpcWriteOptions(compression="lz4")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema, options=options) as w:
        w.write_table(table, max_chunksize=batch_rows(table))
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _sync_dir(path.parent)


def part_reader(path: Path) -> pa.ipc.RecordBatchFileReader:
    """Random access to the record batches of a part file."""
    return pa.ipc.open_file(pa.memory_map(str(path)))


def read_part(path: Path) -> pa.Table:
    """A whole part file as a table."""
    return part_reader(path).read_all()


def part_rows(path: Path) -> int:
    """Rows in a part file (reads only its metadata and batch headers)."""
    reader = part_reader(path)
    return sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))


def _sync_dir(folder: Path) -> None:
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


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
