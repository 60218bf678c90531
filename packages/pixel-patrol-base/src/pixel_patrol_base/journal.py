"""Durable progress of a run, beside the report: what ``--resume`` continues from.

The parts folder (``.<report>.parts``) holds sorted part files (:mod:`pixel_patrol_base.parts`),
a ``run.json`` with the settings that shape the rows, a ``token`` that tells workers on other
hosts they see this folder (:func:`pixel_patrol_base.parts.reachable`), and ``done.txt``: one JSON line per file
whose rows are all in registered parts, and per registered part (``{"part": name}``). Parts
are written under a temporary name and renamed; to register them, the journal syncs their data
and the folder to disk, then records them and their files in one synced append. A crash at
any moment therefore leaves a consistent folder: a resumed run keeps the registered parts (only the rows of files listed as
done) and deletes any other part, e.g. one a worker wrote just before the run was killed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterable, Mapping
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

import pyarrow as pa

from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.parts import TOKEN_FILE, read_part, sync_dir, sync_file, write_part_file
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
        self._unregistered: list[str] = []
        self.token = secrets.token_hex(16)
        """Written into the folder: workers that find it there write their own parts."""

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
        else:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir()
            _atomic_write(self.folder / RUN_FILE, json.dumps(fingerprint, default=str, sort_keys=True))
        _atomic_write(self.folder / TOKEN_FILE, self.token)

    def _load(self) -> None:
        import pyarrow.compute as pc  # imported here: only a resumed run gets here

        done_file = self.folder / DONE_FILE
        lines = done_file.read_text().splitlines() if done_file.exists() else []
        entries = [e for line in lines if (e := _parse(line)) is not None]
        self.done = {e for e in entries if isinstance(e, str)}
        registered = {e["part"] for e in entries if isinstance(e, dict)}
        kept = []
        for path in sorted(self.folder.glob("part-*.arrow")):
            if path.name not in registered:
                path.unlink()
                continue
            table = read_part(path)
            mask = pc.is_in(table.column(SOURCE_FIELD), value_set=pa.array(sorted(self.done), pa.string()))
            table = table.filter(mask)
            if table.num_rows:
                write_part_file(table, path, sync=True)
                kept.append(path)
            else:
                path.unlink()
        self.parts = kept

    def next_part(self) -> Path:
        """Path of the next part file the coordinator writes (never a resumed part's name)."""
        n = len(self.parts)
        while (path := self.folder / f"part-c{n:06d}.arrow").exists():
            n += 1
        return path

    def write_part(self, table: pa.Table) -> Path:
        """Write a part file durably; it counts once :meth:`mark_done` registers it."""
        path = self.next_part()
        write_part_file(table, path)
        self.parts.append(path)
        self._unregistered.append(path.name)
        return path

    def add_part(self, path: Path) -> None:
        """A part a worker wrote; it counts once :meth:`mark_done` syncs and registers it."""
        self.parts.append(path)
        self._unregistered.append(path.name)

    def mark_done(self, paths: Iterable[str]) -> None:
        """Register new parts and record files whose rows are all in them (one synced append)."""
        new = [p for p in paths if p not in self.done] if self.done else list(paths)
        if not new and not self._unregistered:
            return
        if self._unregistered:  # the new parts' data and renames reach the disk first
            for name in self._unregistered:
                sync_file(self.folder / name)
            sync_dir(self.folder)
        lines = [json.dumps({"part": name}) for name in self._unregistered]
        lines += map(encode_basestring_ascii, new)  # = json.dumps(path), without its per-call work
        with open(self.folder / DONE_FILE, "a", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in lines))
            f.flush()
            os.fsync(f.fileno())
        self._unregistered = []
        self.marked += len(new)

    @property
    def empty(self) -> bool:
        """Nothing a ``--resume`` could continue from: no part and no file done."""
        return not self.parts and not self.done and not self.marked

    def remove(self) -> None:
        """Delete the folder (after the report is written)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _parse(line: str) -> str | dict[str, str] | None:
    """One done-list line: a file's path, or ``{"part": name}``; a line cut short by a crash is
    ignored (its file is redone, its part deleted)."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("part"), str):
        return value
    return None


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
