"""What a run may write: the report, its debug log, its temporary file and its progress folder.

A mistyped ``-o`` must never destroy data. A run therefore writes only to a path that does not
exist yet or that holds a Pixel Patrol report (recognised by the ``pixel_patrol.*`` keys of its
Parquet footer, read without reading the rows), and replaces a report only when asked to
(``--overwrite``, or ``--resume`` / ``--incremental``, which continue or update it). The files
written beside the report are checked the same way. Every refusal is a
:class:`~pixel_patrol_base.errors.SettingsError` raised before anything is written.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pixel_patrol_base.discovery import Filter
from pixel_patrol_base.errors import SettingsError

if TYPE_CHECKING:
    from pixel_patrol_base.project import Project
    from pixel_patrol_base.settings import ProcessingSettings

REPORT_SUFFIX = ".parquet"
META_PREFIX = b"pixel_patrol."
PARQUET_MAGIC = b"PAR1"
PROGRESS_FILES = re.compile(r"run\.json|done\.txt|token|(part|merge)-[\w.-]+|[\w.-]+\.tmp")
"""Names the progress folder (``.<report>.parts``) may hold (run fingerprint, done list, the
run's token for workers, part and merge files in any format, temporary files): only then is it
ours to continue or delete."""


@dataclass(frozen=True, slots=True)
class OutputRequest:
    """What the run is allowed to do with an existing report at ``-o``."""

    replace: bool
    """``--overwrite``, ``--resume`` or ``--incremental``: an existing report may be replaced."""
    any_extension: bool = False
    """``--allow-any-extension``: the report name need not end in ``.parquet``."""
    log_file: bool = False
    """``--log-file``: the debug log beside the report is written too."""


def log_path(output: Path) -> Path:
    """The debug log beside ``output``: ``<report>.log`` (never the report itself)."""
    path = output.with_suffix(".log")
    return path if path != output else output.with_name(output.name + ".log")


def has_separator_at_end(raw: str | os.PathLike[str]) -> bool:
    """Whether ``-o`` ends in a path separator (a folder was meant, or a name was forgotten)."""
    text = os.fspath(raw)
    text = text.decode(errors="replace") if isinstance(text, bytes) else text
    return text.endswith(tuple(s for s in (os.sep, os.altsep) if s))


def is_report(path: Path) -> bool:
    """Whether ``path`` is a Parquet file whose footer carries ``pixel_patrol.*`` keys.

    Reads the first and last bytes and the footer only, never the rows.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with open(path, "rb") as f:
            head = f.read(4)
            f.seek(0, os.SEEK_END)
            if f.tell() < 12:
                return False
            f.seek(-4, os.SEEK_END)
            tail = f.read(4)
        if head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
            return False
        meta = pq.read_metadata(path).metadata or {}
    except (OSError, pa.ArrowException):
        return False
    return any(k.startswith(META_PREFIX) for k in meta)


def check_report_path(output: Path, request: OutputRequest) -> None:
    """Refuse an ``-o`` that is not a report name or would replace something else."""
    if not output.name.lower().endswith(REPORT_SUFFIX) and not request.any_extension:
        raise SettingsError(
            f"-o '{output}' does not end in .parquet; name the report e.g."
            f" '{output.with_suffix(REPORT_SUFFIX).name}', or pass --allow-any-extension"
        )
    if not os.path.lexists(output):
        return
    if output.is_symlink():
        raise SettingsError(
            f"-o '{output}' is a symbolic link; give the path of the file itself or another -o"
        )
    if not output.is_file():
        raise SettingsError(f"-o '{output}' exists and is not a regular file; choose another -o")
    if not is_report(output):
        raise SettingsError(
            f"-o '{output}' exists and is not a Pixel Patrol report; it is left alone:"
            " choose another -o (or move that file away)"
        )
    if not request.replace:
        raise SettingsError(
            f"-o '{output}' already holds a Pixel Patrol report; pass --overwrite to replace it,"
            " --incremental to update it, or choose another -o"
        )


def check_side_files(output: Path, request: OutputRequest) -> None:
    """The log, temporary file and progress folder beside the report clobber no user file."""
    from pixel_patrol_base.report import parts_dir, temp_path

    log = log_path(output)
    if request.log_file and os.path.lexists(log) and not _is_our_log(log):
        raise SettingsError(
            f"--log-file would replace '{log}', which is not a Pixel Patrol log;"
            " move it away, drop --log-file or choose another -o"
        )
    tmp = temp_path(output)
    if os.path.lexists(tmp) and not _is_partial_report(tmp):
        raise SettingsError(
            f"'{tmp}' (the temporary name of the report) exists and is not Pixel Patrol's;"
            " move it away or choose another -o"
        )
    parts = parts_dir(output)
    if os.path.lexists(parts) and not _is_progress_folder(parts):
        raise SettingsError(
            f"'{parts}' (where a run keeps its progress) exists and is not Pixel Patrol's;"
            " move it away or choose another -o"
        )


def check_outside_scan(
    output: Path, roots: tuple[Path, ...], flt: Filter, log_file: bool = False
) -> None:
    """Refuse a report (or its log) that the scan itself would read as input.

    ``roots`` are the scanned folders (the ``-p`` folders, else the base), resolved. A report
    there would be listed as data by this and every later scan, and with a loader that reads
    its extension it would overwrite an input image. Hidden names are never scanned, so
    ``base/.report.parquet`` is allowed.
    """
    real = output.parent.resolve() / output.name
    for path in (real, log_path(real)) if log_file else (real,):
        for root in roots:
            if _scanned(path, root, flt):
                what = "-o" if path == real else f"the debug log '{path.name}' of -o"
                raise SettingsError(
                    f"{what} '{output}' lies inside the scanned folder '{root}', so the scan"
                    " would read it as input; write the report outside the scanned folders"
                )


def _scanned(path: Path, root: Path, flt: Filter) -> bool:
    """Whether discovery under ``root`` would yield ``path`` (or the dataset folder holding it)."""
    if root not in path.parents:
        return False
    parts = path.relative_to(root).parts
    if any(p.startswith(".") for p in parts):
        return False
    folder = root
    for name in parts[:-1]:
        folder = folder / name
        if flt.is_dataset(str(folder), name):
            return True
    return flt.wants_file(path.name)


def check_run_outputs(project: Project, settings: ProcessingSettings, log_file: bool = False) -> None:
    """Every output check for a run of ``project`` with ``settings`` (before anything is written)."""
    from pixel_patrol_base.pipeline import build_context, discovery_filter

    request = OutputRequest(
        replace=settings.overwrite or settings.resume or settings.incremental,
        any_extension=settings.allow_any_extension,
        log_file=log_file,
    )
    check_report_path(project.output_path, request)
    check_side_files(project.output_path, request)
    flt = discovery_filter(project, settings, build_context(project, settings))
    check_outside_scan(project.output_path, project.paths or (project.base_dir,), flt, log_file)


def _is_our_log(path: Path) -> bool:
    """An empty file or one that starts like a Pixel Patrol debug log (date, then our logger)."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(300)
    except OSError:
        return False
    first = head.split(b"\n", 1)[0]
    return not head or (re.match(rb"\d{4}-\d\d-\d\d ", first) is not None and b"pixel_patrol" in first)


def _is_partial_report(path: Path) -> bool:
    """A temporary report left by a killed run: empty, or a Parquet file's first bytes."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return head in (b"", PARQUET_MAGIC)


def _is_progress_folder(path: Path) -> bool:
    """A folder holding nothing but a run's progress files (so it may be deleted)."""
    if path.is_symlink() or not path.is_dir():
        return False
    try:
        names = os.listdir(path)
    except OSError:
        return False
    return "run.json" in names and all(PROGRESS_FILES.fullmatch(n) for n in names)


__all__ = [
    "OutputRequest",
    "check_outside_scan",
    "check_report_path",
    "check_run_outputs",
    "check_side_files",
    "has_separator_at_end",
    "is_report",
    "log_path",
]
