"""Write the HTML report of a Parquet report: read, check, aggregate, render, write atomically."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.findings.model import Finding
from pixel_patrol_base.html.build import DEFAULT_MAX_THUMBNAILS, page_data
from pixel_patrol_base.html.frame import numeric
from pixel_patrol_base.html.heavy import (
    HEAVY_COLUMNS,
    HeavySource,
    HistogramTap,
    ParquetSource,
    TappedSource,
)
from pixel_patrol_base.html.render import render, require, write_atomic
from pixel_patrol_base.project import ProjectMetadata
from pixel_patrol_base.report import read_report

PathLike = str | os.PathLike[str]


def check_output(output: PathLike) -> Path:
    """The absolute output path; its folder must exist and be writable (else SettingsError)."""
    out = Path(output).expanduser().absolute()
    if out.is_dir():
        raise SettingsError(f"output '{out}' is a folder; give a file name such as report.html")
    if not out.parent.is_dir():
        raise SettingsError(f"output folder '{out.parent}' does not exist; create it first")
    if not os.access(out.parent, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise SettingsError(f"output '{out}' is not writable; choose another -o")
    return out


def write_html(
    report: PathLike | tuple[pa.Table, ProjectMetadata],
    output: PathLike,
    *,
    group_by: str = "path",
    expectations: PathLike | None = None,
    max_thumbnails: int = DEFAULT_MAX_THUMBNAILS,
    title: str | None = None,
    findings: Sequence[Finding] | None = None,
) -> Path:
    """Write the page for ``report`` (a Parquet path or ``api.load``'s pair) to ``output``.

    The findings are ``check``'s on the same table with ``expectations`` unless given. Bad
    input raises a :class:`~pixel_patrol_base.errors.PixelPatrolError` before anything is
    written; the page is written under a temporary name and renamed.
    """
    if max_thumbnails < 0:
        raise SettingsError("--max-thumbnails must be 0 or more")
    out = check_output(output)
    require()
    exp = _expectations(expectations)
    if isinstance(report, tuple):
        table, meta = report
        if findings is None:
            found, skipped = run_check(table, exp)
        else:
            found, skipped = list(findings), {}
        data = page_data(table, meta, found, group_by=group_by, max_thumbnails=max_thumbnails, title=title)
    else:
        path = Path(report)
        tap = histogram_tap(path) if findings is None else None
        with ThreadPoolExecutor(1) as pool:
            # check reads the report on its own; it runs beside the aggregation (2 cores) and
            # hands the page the image rows' histograms as it decodes them
            job = pool.submit(run_check, path, exp, tap) if findings is None else None
            table, meta, file_source, schema = read_light(path)
            heavy: HeavySource = file_source if tap is None else TappedSource(file_source, tap)
            data = page_data(
                table, meta, (lambda: job.result()[0]) if job else list(findings or []), group_by=group_by,
                max_thumbnails=max_thumbnails, title=title, source=path.name, heavy=heavy, schema=schema,
            )
            skipped = job.result()[1] if job else {}
    data["findings"]["skipped"] = skipped
    write_atomic(out, render(data))
    return out


def _expectations(expectations: PathLike | None) -> Any:
    """The parsed expectations file (a bad file fails here, before the report is read)."""
    if expectations is None:
        return None
    from pixel_patrol_base.findings.engine import as_expectations

    return as_expectations(expectations)


def read_light(path: Path) -> tuple[pa.Table, ProjectMetadata, ParquetSource, pa.Schema]:
    """The report without its heavy columns, a source for them, and the full schema."""
    table, meta = read_report(path, columns=None if not path.is_file() else _light_columns(path))
    heavy = ParquetSource(path)
    return table, meta, heavy, heavy.file.schema_arrow


def _light_columns(path: Path) -> list[str] | None:
    try:
        names = pq.read_schema(path).names
    except (OSError, pa.ArrowException):
        return None  # read_report names the problem
    return [n for n in names if n not in HEAVY_COLUMNS]


def histogram_tap(path: Path) -> HistogramTap | None:
    """A tap for the image rows' histograms (None when the report has none or cannot be read:
    reading it again then names the problem). Image rows are those at obs_level 0, as the
    page's frame selects them."""
    try:
        schema = pq.read_schema(path)
        if "histogram_counts" not in schema.names:
            return None
        if "obs_level" not in schema.names:
            return HistogramTap(np.arange(pq.ParquetFile(path).metadata.num_rows))
        level = numeric(pq.read_table(path, columns=["obs_level"]).column("obs_level"))
    except (OSError, pa.ArrowException):
        return None
    return HistogramTap(np.flatnonzero(level == 0))


def run_check(
    report: pa.Table | Path, expectations: Any, tap: HistogramTap | None = None
) -> tuple[list[Finding], dict[str, str]]:
    """``check``'s findings on a report (the same rules and order as ``pixel-patrol check``)
    and the rules it could not run, with the reason."""
    from pixel_patrol_base.findings.engine import run_check as check

    result = check(report, expectations, {"histogram_counts": tap} if tap is not None else None)
    return list(result.findings), dict(result.skipped)
