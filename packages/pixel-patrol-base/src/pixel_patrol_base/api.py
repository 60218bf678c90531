"""Python API: the same scan as ``pixel-patrol process``, for notebooks and scripts.

>>> from pixel_patrol_base import api
>>> project = api.create_project("exp42", "my-data/", loader="bioio")   # doctest: +SKIP
>>> project = api.add_paths(project, ["control", "treated"])             # doctest: +SKIP
>>> project = api.process_files(project, slice_size={"Z": 1})            # doctest: +SKIP
>>> table, meta = api.load(project.output_path)                          # doctest: +SKIP

Inside ``with dask.distributed.Client(...):`` the active client's cluster is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from pixel_patrol_base.findings.model import Finding
from pixel_patrol_base.outputs import check_run_outputs
from pixel_patrol_base.pathtext import decode_path
from pixel_patrol_base.pipeline import (
    Coordinator,
    ProgressCallback,
    RunSummary,
    SupportsWatch,
    build_context,
)
from pixel_patrol_base.plugins import get_loader
from pixel_patrol_base.project import (
    Project,
    ProjectMetadata,
    resolve_base_dir,
    resolve_output,
    resolve_paths,
    validate_name,
)
from pixel_patrol_base.report import read_report
from pixel_patrol_base.settings import ProcessingSettings, normalise_extensions, parse_slice_size

PathLike = str | os.PathLike[str]


def create_project(
    name: str,
    base_dir: PathLike,
    loader: str | None = None,
    output_path: PathLike | None = None,
    description: str = "",
    flavor: str = "",
) -> Project:
    """Define a scan of ``base_dir``; the report goes to ``output_path`` (default ``./<name>.parquet``).

    Raises :class:`~pixel_patrol_base.errors.SettingsError` or ``PluginError`` for a missing
    folder, an unwritable output folder or an unknown loader, before anything is scanned.
    """
    name = validate_name(name)
    base = resolve_base_dir(base_dir)
    if loader is not None:
        get_loader(loader)
    out = resolve_output(output_path, name)
    return Project(name=name, base_dir=base, output_path=out, loader=loader, description=description, flavor=flavor)


def add_paths(project: Project, paths: PathLike | Iterable[PathLike]) -> Project:
    """Restrict the scan to condition folders (relative to the base or absolute, inside it).

    Each folder becomes a condition label (the ``path`` column). Returns a new project.
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    resolved = resolve_paths(project.base_dir, [*project.paths, *items])
    return project.with_paths(resolved)


def process_files(
    project: Project,
    progress_callback: ProgressCallback | None = None,
    *,
    processors_include: Iterable[str] = (),
    processors_exclude: Iterable[str] = (),
    file_extensions: Iterable[str] | None = None,
    slice_size: Mapping[str, int] | Iterable[str] | None = None,
    max_workers: int | None = None,
    scheduler: str | None = None,
    mb_per_task: float = 512.0,
    max_images_per_task: int = 200,
    rows_per_part: int = 10_000,
    parquet_row_group_size: int = 2048,
    omit_base_dir: bool = False,
    fail_on_error: bool = False,
    resume: bool = False,
    incremental: bool = False,
    overwrite: bool = False,
    allow_any_extension: bool = False,
    task_timeout: float | None = 3600.0,
    description: str | None = None,
    flavor: str | None = None,
) -> Project:
    """Scan the project's files and write its report; returns the project.

    ``progress_callback(files_done, files_found, discovery_finished)`` is called as files
    complete. The run's summary is available afterwards via :func:`last_summary`.

    An existing file at the output path is replaced only when it is a Pixel Patrol report and
    ``overwrite`` (or ``resume`` / ``incremental``) is set; an output name not ending in
    ``.parquet`` needs ``allow_any_extension``. Otherwise, and for an output the scan would read
    as input, :class:`~pixel_patrol_base.errors.SettingsError` is raised before anything is
    written.
    """
    settings = make_settings(
        processors_include=processors_include,
        processors_exclude=processors_exclude,
        file_extensions=file_extensions,
        slice_size=slice_size,
        max_workers=max_workers,
        scheduler=scheduler,
        mb_per_task=mb_per_task,
        max_images_per_task=max_images_per_task,
        rows_per_part=rows_per_part,
        parquet_row_group_size=parquet_row_group_size,
        omit_base_dir=omit_base_dir,
        fail_on_error=fail_on_error,
        resume=resume,
        incremental=incremental,
        overwrite=overwrite,
        allow_any_extension=allow_any_extension,
        task_timeout=task_timeout,
    )
    if description is not None or flavor is not None:
        from dataclasses import replace

        project = replace(
            project,
            description=project.description if description is None else description,
            flavor=project.flavor if flavor is None else flavor,
        )
    run(project, settings, progress_callback)
    return project


def make_settings(**kw: Any) -> ProcessingSettings:
    """Validated settings from API/CLI values (extensions and slice sizes normalised)."""
    kw["file_extensions"] = normalise_extensions(kw.get("file_extensions"))
    kw["slice_size"] = parse_slice_size(kw.get("slice_size"))
    kw["processors_include"] = tuple(kw.get("processors_include") or ())
    kw["processors_exclude"] = tuple(kw.get("processors_exclude") or ())
    return ProcessingSettings(**kw)


_LAST: list[RunSummary] = []


def run(
    project: Project, settings: ProcessingSettings, progress: ProgressCallback | None = None
) -> RunSummary:
    """Run a scan with ready-made settings (the CLI's entry)."""
    check_run_outputs(project, settings)
    ctx = build_context(project, settings)
    coordinator = Coordinator(project, settings, ctx, progress)
    if isinstance(progress, SupportsWatch):  # a display that also shows the error count as it grows
        progress.watch(coordinator.summary)
    summary = coordinator.run()
    _LAST[:] = [summary]
    return summary


def last_summary() -> RunSummary | None:
    """Summary of the most recent run in this process."""
    return _LAST[0] if _LAST else None


def load(path: PathLike) -> tuple[pa.Table, ProjectMetadata]:
    """Read a report: ``(table, metadata)``; ``polars.from_arrow(table)`` or ``table.to_pandas()``."""
    return read_report(Path(path))


def check(
    report_or_table: PathLike | pa.Table,
    expectations: PathLike | Mapping[str, Any] | None = None,
) -> list[Finding]:
    """What is wrong with a dataset: the findings of ``pixel-patrol check``, ranked, as values.

    ``report_or_table`` is a report file or its table (as from :func:`load`);
    ``expectations`` an expectations file (TOML) or the same content as a dict. Raises
    :class:`~pixel_patrol_base.errors.ReportError` for an unreadable report and
    ``ExpectationsError`` for a bad expectations file. See docs/findings.md.
    """
    from pixel_patrol_base.findings.engine import run_check

    return run_check(report_or_table, expectations).findings


def report(
    report_path: PathLike,
    output: PathLike,
    *,
    group_by: str = "path",
    expectations: PathLike | None = None,
    max_thumbnails: int = 256,
    title: str | None = None,
) -> Path:
    """Write one self-contained HTML page for a report, findings first; returns its path.

    ``group_by`` names the categorical column whose values are compared (default the
    condition ``path``); ``expectations`` is an expectations file for the findings. Needs the
    ``report`` extra of pixel-patrol-base (Jinja2, plotly); raises
    :class:`~pixel_patrol_base.errors.PixelPatrolError` on bad input before writing anything.
    """
    from pixel_patrol_base.html import write_html

    return write_html(
        report_path, output, group_by=group_by, expectations=expectations, max_thumbnails=max_thumbnails, title=title
    )


__all__ = ["add_paths", "check", "create_project", "decode_path", "last_summary", "load", "process_files", "report"]
