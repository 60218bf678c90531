"""``--incremental``: reuse the rows of files that did not change since the existing report.

A file is unchanged when its path, size and modification time equal those in the previous
report and it had no error there. The rule for settings, so that the report always equals a
fresh run of the same command:

* settings that only choose files or name them (:data:`APPLIED_KEYS`: the ``-p`` folders, the
  base folder, ``-e``) are applied to the reused rows exactly: discovery decides which files
  are in the report, and each reused row gets the condition label (``path``) of the current
  run;
* every other entry of the fingerprint (loader, processors, report columns, slice sizes, path
  mode, package versions, and whatever else is added to it) shapes the rows themselves: when
  one differs from the previous report's footer, nothing is reused and a warning says why.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pixel_patrol_base.discovery import FileEntry, safe_text
from pixel_patrol_base.report import decode_metadata
from pixel_patrol_base.rows import row_key
from pixel_patrol_base.schema import ORDER_FIELD, SOURCE_FIELD

log = logging.getLogger(__name__)

APPLIED_KEYS = frozenset({"paths", "base_dir", "file_extensions"})
"""Fingerprint entries that reused rows follow exactly (by relabelling or by discovery)."""

SAME_REPORT_FIELDS = ("name", "description", "flavor")
"""Footer fields that must also be equal for an unchanged report to be kept as it is."""

SAME_REPORT_STATS = ("not_read", "file_facts_only")
"""``processing_stats`` entries about the data (not the run) that must be equal too."""

SAME_REPORT_SETTINGS = ("parquet_row_group_size",)
"""Settings that shape the file (not the rows): a change rewrites an unchanged report."""


@dataclass(slots=True)
class Previous:
    """The files of the previous report that may be reused, and what became of them."""

    path: Path
    files: dict[str, tuple[int, int]]
    footer: dict[str, Any] = field(default_factory=dict)
    reuse: dict[str, tuple[int, str]] = field(default_factory=dict)
    """Reused file → (its discovery index now, its condition label now)."""
    seen: set[str] = field(default_factory=set)
    changed: int = 0
    new: int = 0

    def match(self, entry: FileEntry, key: str, index: int) -> bool:
        """Whether ``entry`` is unchanged (its rows will be copied, not recomputed)."""
        self.seen.add(key)
        old = self.files.get(key)
        if old is None:
            self.new += 1
            return False
        if old != (entry.size, entry.mtime_ns // 1000):
            self.changed += 1
            return False
        self.reuse[key] = (index, safe_text(entry.condition))
        return True

    @property
    def removed(self) -> int:
        """Files of the previous report that discovery no longer finds."""
        return len(set(self.files) - self.seen)

    def same_report(self, footer: Mapping[str, Any]) -> bool:
        """Whether a run with ``footer`` (fingerprint, name …) would write the previous report's
        rows and descriptive footer unchanged, given that every file was reused."""
        old = self.footer
        if _json(old.get("fingerprint")) != _json(footer.get("fingerprint")):
            return False
        if any(old.get(k) != footer.get(k) for k in SAME_REPORT_FIELDS):
            return False
        was, now = old.get("processing_stats") or {}, _json(footer.get("processing_stats") or {})
        if any(was.get(k) != now.get(k) for k in SAME_REPORT_STATS):
            return False
        was, now = old.get("settings") or {}, _json(footer.get("settings") or {})
        return all(was.get(k) == now.get(k) for k in SAME_REPORT_SETTINGS)


def _json(value: Any) -> Any:
    """``value`` as it reads back from the footer's JSON (tuples become lists …)."""
    return json.loads(json.dumps(value, default=str))


def reuse_blockers(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Fingerprint entries that differ and shape rows: any of them forbids reusing rows.

    Entries not in :data:`APPLIED_KEYS` block by default, so an entry added to the fingerprint
    later is safe without touching this function.
    """
    old, new = _json(dict(old)), _json(dict(new))
    keys = sorted((set(old) | set(new)) - APPLIED_KEYS)
    return [k for k in keys if old.get(k) != new.get(k)]


def load_previous(output: Path, fingerprint: Mapping[str, Any]) -> Previous | None:
    """The previous report at ``output`` if its rows can be reused, else ``None``."""
    if not output.is_file():
        log.info("--incremental: no previous report at %s; processing everything", output)
        return None
    try:
        meta = decode_metadata(pq.read_schema(output).metadata)
        table = pq.read_table(output, columns=["imported_path", "file_size", "modification_date", "error"])
    except (OSError, pa.ArrowException) as exc:
        log.warning("--incremental: cannot read %s (%s); processing everything", output, exc)
        return None
    different = reuse_blockers(meta.get("fingerprint") or {}, fingerprint)
    if different:
        log.warning("--incremental: the previous report differs in %s; processing everything", ", ".join(different))
        return None
    return Previous(output, _unchanged_candidates(table), meta)


def _unchanged_candidates(table: pa.Table) -> dict[str, tuple[int, int]]:
    """path → (size, mtime µs) of files that have rows and no error row."""
    failed = set(pc.filter(table.column("imported_path"), pc.is_valid(table.column("error"))).to_pylist())
    out: dict[str, tuple[int, int]] = {}
    mtimes = table.column("modification_date").cast(pa.int64()).to_pylist()
    for path, size, mtime in zip(table.column("imported_path").to_pylist(), table.column("file_size").to_pylist(), mtimes, strict=True):
        if path not in failed and size is not None and mtime is not None:
            out[path] = (size, mtime)
    return out


def reused_tables(prev: Previous, base_dir: Path, omit_base_dir: bool, part_schema: pa.Schema) -> Iterator[pa.Table]:
    """The previous report's rows of reused files, keyed for their new place in the report."""
    if not prev.reuse:
        return
    wanted = pa.array(sorted(prev.reuse), pa.string())
    for batch in pq.ParquetFile(prev.path).iter_batches(batch_size=8192):
        table = pa.Table.from_batches([batch])
        table = table.filter(pc.is_in(table.column("imported_path"), value_set=wanted))
        if not table.num_rows:
            continue
        paths = table.column("imported_path").to_pylist()
        keys = [row_key(prev.reuse[p][0]) for p in paths]
        root = safe_text(str(base_dir))
        sources = [os.path.join(root, p) if omit_base_dir else p for p in paths]
        labels = pa.array([prev.reuse[p][1] for p in paths], pa.string())
        table = table.set_column(table.schema.get_field_index("path"), "path", labels)
        table = table.append_column(ORDER_FIELD, pa.array(keys, pa.int64()))
        table = table.append_column(SOURCE_FIELD, pa.array(sources, pa.string()))
        yield table.select(part_schema.names).cast(part_schema)
