"""Accounting for the files a run does not read, so that none vanishes without a trace.

A loader processes the extensions it supports; other files get no rows. The run still counts
them by extension and lists the first :data:`LIST_CAP` (footer ``processing_stats.not_read``,
the debug log, the end-of-run line). A file of an image format this project knows that no
installed loader reads — a ``.czi`` without its reader plugin — becomes an error row saying
what to install. Without a loader, image files get file facts only, and the run says once which
loader would read them (``processing_stats.file_facts_only``).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pixel_patrol_base.contracts import Loader, SupportsMissingReader
from pixel_patrol_base.discovery import (
    DiscoveryProblem,
    FileEntry,
    Found,
    Unread,
    file_extension,
    safe_text,
)
from pixel_patrol_base.formats import (
    KNOWN_IMAGE_FORMATS,
    Readers,
    install_hint,
    missing_reader,
    no_reader_message,
    supports,
)

log = logging.getLogger(__name__)

LIST_CAP = 100
"""Unread files listed by path in the footer and the log; all are counted."""


@dataclass(frozen=True, slots=True)
class NoReader:
    """A file of a known image format that no installed loader reads: an error row."""

    entry: FileEntry
    message: str

    @property
    def key(self) -> str:
        """Identity in the report and the resume journal."""
        return self.entry.key

    @property
    def condition(self) -> str:
        """The condition label of the file (``path``)."""
        return self.entry.condition


@dataclass(slots=True)
class Accounting:
    """Counts what discovery found but the loader does not read; sorts out unreadable files."""

    loader: Loader | None
    omit_base_dir: bool
    _readers: Readers | None = None
    not_read: Counter[str] = field(default_factory=Counter)
    listed: list[str] = field(default_factory=list)
    facts_only: Counter[str] = field(default_factory=Counter)
    _missing: dict[str, str | None] = field(default_factory=dict)
    _known: frozenset[str] | None = None
    _probes: bool | None = None
    """Whether the loader says which formats lack their reader (checked once: a runtime
    protocol check costs tens of µs and this runs per file)."""
    _lacking: tuple[str, ...] | None = None
    """``.ext`` of every extension the loader declares but lacks a reader for."""

    @classmethod
    def for_run(cls, loader: Loader | None, omit_base_dir: bool) -> Accounting:
        """Accounting for a run with ``loader`` (installed loaders are probed lazily)."""
        return cls(loader, omit_base_dir)

    @property
    def readers(self) -> Readers:
        """The installed loaders, loaded on first need (most runs read every file they find)."""
        if self._readers is None:
            self._readers = Readers.installed()
        return self._readers

    def sort(self, item: Found) -> FileEntry | DiscoveryProblem | NoReader | None:
        """What the run does with a discovered item: ``None`` = counted only, a
        :class:`NoReader` = an error row, anything else = processed as before."""
        if isinstance(item, Unread):
            return self._unread(item.entry)
        if isinstance(item, FileEntry):
            if self.loader is None:
                ext = self._ext(item)
                if ext in KNOWN_IMAGE_FORMATS:
                    self.facts_only[ext] += 1
            elif (message := self._selected_cannot_read(item)) is not None:
                return NoReader(item, message)
        return item

    def _ext(self, entry: FileEntry) -> str:
        if self._known is None:
            known = frozenset(KNOWN_IMAGE_FORMATS)
            if self.loader is not None:
                known |= self.loader.SUPPORTED_EXTENSIONS | self.loader.FOLDER_EXTENSIONS
            self._known = known
        return file_extension(entry.name, self._known)

    def _selected_cannot_read(self, entry: FileEntry) -> str | None:
        loader = self.loader
        if self._probes is None:
            self._probes = isinstance(loader, SupportsMissingReader)
        if loader is None or not self._probes:
            return None
        if self._lacking is None:
            exts = loader.SUPPORTED_EXTENSIONS | loader.FOLDER_EXTENSIONS
            self._lacking = tuple(sorted("." + e for e in exts if missing_reader(loader, e) is not None))
        if not entry.path.lower().endswith(self._lacking):  # nearly every file: one C call
            return None
        ext = self._ext(entry)
        if ext not in self._missing:
            lacking = supports(loader, ext) and missing_reader(loader, ext) is not None
            self._missing[ext] = no_reader_message(ext, loader, self.readers) if lacking else None
        return self._missing[ext]

    def _unread(self, entry: FileEntry) -> NoReader | None:
        ext = self._ext(entry)
        if ext in KNOWN_IMAGE_FORMATS and self.readers.reader(ext) is None:
            return NoReader(entry, no_reader_message(ext, self.loader, self.readers))
        self.not_read[ext] += 1
        if len(self.listed) < LIST_CAP:
            shown = safe_text(entry.rel_path if self.omit_base_dir else entry.path)
            self.listed.append(shown)
            log.debug("not read by the %s loader: %s", self.loader.NAME if self.loader else "?", shown)
        return None

    def to_json(self) -> dict[str, Any]:
        """The ``processing_stats`` entries ``not_read`` and ``file_facts_only``."""
        return {"not_read": self._not_read_json(), "file_facts_only": self._facts_only_json()}

    def _not_read_json(self) -> dict[str, Any] | None:
        if not self.not_read:
            return None
        by_ext = dict(sorted(self.not_read.items(), key=lambda kv: (-kv[1], kv[0])))
        readers = {e: r for e in by_ext if (r := self.readers.reader(e)) is not None}
        return {
            "loader": self.loader.NAME if self.loader else None,
            "files": sum(by_ext.values()),
            "by_extension": by_ext,
            "readers": readers,
            "listed": list(self.listed),
            "listed_cap": LIST_CAP,
        }

    def _facts_only_json(self) -> dict[str, Any] | None:
        if not self.facts_only:
            return None
        by_ext = dict(sorted(self.facts_only.items(), key=lambda kv: (-kv[1], kv[0])))
        votes: Counter[str] = Counter()
        for ext, n in by_ext.items():
            if (r := self.readers.reader(ext)) is not None:
                votes[r] += n
        return {
            "image_files": sum(by_ext.values()),
            "by_extension": by_ext,
            "reader": votes.most_common(1)[0][0] if votes else None,
        }


def summary_lines(stats: dict[str, Any]) -> list[str]:
    """End-of-run lines about unread files and file-facts-only images (from processing stats)."""
    from pixel_patrol_base.progress import plural

    lines = []
    if nr := stats.get("not_read"):
        by_reader: dict[str, list[str]] = {}
        for ext, reader in nr["readers"].items():
            by_reader.setdefault(reader, []).append(_dotted(ext))
        hints = "".join(f"; --loader {r} reads {', '.join(exts)}" for r, exts in by_reader.items())
        lines.append(
            f"not read by the {nr['loader']} loader: {plural(nr['files'], 'file')} ({_counts(nr['by_extension'])})"
            f"{hints}; listed in the report footer (processing_stats.not_read)"
        )
    if ff := stats.get("file_facts_only"):
        todo = f"--loader {ff['reader']} reads them" if ff["reader"] else install_hint()
        lines.append(
            f"no --loader: only file facts were collected for {plural(ff['image_files'], 'image file')}"
            f" ({_counts(ff['by_extension'])}); {todo}"
        )
    return lines


def _dotted(ext: str) -> str:
    return f".{ext}" if ext else "(no extension)"


def _counts(by_ext: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {_dotted(e)}" for e, n in by_ext.items())


__all__ = ["LIST_CAP", "Accounting", "NoReader", "summary_lines"]
