"""File-system columns: the same values on every row of a file."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from pixel_patrol_base.discovery import FileEntry, file_extension, safe_text

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def size_readable(n: int) -> str:
    """Bytes for humans in powers of 1000: ``12.3 MB``."""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if value < 1000 or unit == "PB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def file_columns(
    entry: FileEntry, omit_base_dir: bool, known_extensions: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The file-system columns of ``entry``.

    With ``omit_base_dir`` the path is stored relative to the base directory, so the report
    carries no absolute location.
    """
    return {
        "_source": entry.key,
        "imported_path": safe_text(entry.rel_path if omit_base_dir else entry.path),
        "file_name": safe_text(os.path.basename(entry.path)),
        "file_extension": safe_text(file_extension(entry.name, known_extensions)),
        "file_size": entry.size,
        "size_readable": size_readable(entry.size),
        "path": safe_text(entry.condition),
        "modification_date": EPOCH + timedelta(microseconds=entry.mtime_ns // 1000),
    }
