"""``pixel-patrol`` command line: a thin layer over :mod:`pixel_patrol_base.api`.

Heavy modules are imported inside the commands so that ``--help`` is instant. Problems with
the input give one line on stderr and exit code 2; nothing is written.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from pixel_patrol_base import __version__

app = typer.Typer(
    name="pixel-patrol",
    help="Scan a folder of scientific images into one Parquet QC report.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

log = logging.getLogger("pixel_patrol_base")

EXIT_USAGE = 2


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pixel-patrol {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Scan a folder of scientific images into one Parquet QC report."""


@app.command("process")
def process(
    base_dir: Annotated[str, typer.Argument(metavar="BASE", help="Folder that holds the images.", show_default=False)],
    output: Annotated[str, typer.Option("-o", "--output", metavar="FILE", help="Report file to write (e.g. report.parquet).", show_default=False)],
    paths: Annotated[list[str] | None, typer.Option("-p", "--paths", metavar="DIR", help="Condition folder inside BASE (repeatable; relative to BASE or absolute). Each becomes a 'path' label.")] = None,
    loader: Annotated[str | None, typer.Option("-l", "--loader", metavar="ID", help="Loader id (see list-plugins). Without one, only file facts are collected.")] = None,
    file_extensions: Annotated[list[str] | None, typer.Option("-e", "--file-extensions", metavar="EXT", help="Only files with this extension (repeatable, case-insensitive, dot optional).")] = None,
    processors_include: Annotated[list[str] | None, typer.Option("--processors-include", metavar="ID", help="Run only these processors (repeatable). Takes precedence: when given, --processors-exclude is ignored.")] = None,
    processors_exclude: Annotated[list[str] | None, typer.Option("--processors-exclude", metavar="ID", help="Skip these processors (repeatable; ignored when --processors-include is given).")] = None,
    slice_size: Annotated[list[str] | None, typer.Option("--slice-size", metavar="DIM=N", help="Leaf block size per axis (repeatable), e.g. Z=5; -1 = full extent. Default: X, Y full, others 1.")] = None,
    max_workers: Annotated[int | None, typer.Option("--max-workers", metavar="N", help="Upper bound on local worker processes; 1 = run in this process.")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", metavar="URL", help="Address of a running Dask scheduler to use instead of a local cluster.")] = None,
    mb_per_task: Annotated[float, typer.Option("--mb-per-task", metavar="MB", help="Memory/work budget per task in MB (uncompressed pixels).")] = 512.0,
    max_images_per_task: Annotated[int, typer.Option("--max-images-per-task", metavar="N", help="Maximum files or sub-images per task.")] = 200,
    rows_per_part: Annotated[int, typer.Option("--rows-per-part", metavar="N", help="Rows buffered in memory before they are spilled to a temporary part file.")] = 10_000,
    parquet_row_group_size: Annotated[int, typer.Option("--parquet-row-group-size", metavar="N", help="Rows per row group in the report.")] = 2048,
    log_file: Annotated[bool, typer.Option("--log-file", help="Write a debug log beside the report (<report>.log).")] = False,
    name: Annotated[str | None, typer.Option("--name", metavar="TEXT", help="Project name stored in the report (default: BASE's folder name).")] = None,
    description: Annotated[str, typer.Option("--description", metavar="TEXT", help="Free text stored in the report.")] = "",
    flavor: Annotated[str, typer.Option("--flavor", metavar="TEXT", help="A label for the kind of data (e.g. fluorescence).")] = "",
    omit_base_dir: Annotated[bool, typer.Option("--omit-base-dir", help="Store paths relative to BASE; the absolute base folder appears nowhere in the report or the debug log (error messages included).")] = False,
    fail_on_error: Annotated[bool, typer.Option("--fail-on-error", help="Exit with code 1 when any file failed (default: 0 once the report is written).")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run of the same command: files already done are not processed again.")] = False,
    task_timeout: Annotated[float, typer.Option("--task-timeout", metavar="SECONDS", help="Seconds a task may run before its worker is restarted and its files are reported as failed (worker processes only).")] = 3600.0,
    incremental: Annotated[bool, typer.Option("--incremental", help="Reuse the rows of files unchanged since the existing report (same path, size and modification time); process only new and changed files.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the Pixel Patrol report at -o. Without it an existing report is refused; any other existing file always is.")] = False,
    allow_any_extension: Annotated[bool, typer.Option("--allow-any-extension", help="Accept an -o name that does not end in .parquet.")] = False,
    html: Annotated[str | None, typer.Option("--html", metavar="FILE", help="Also write the HTML report page (as 'pixel-patrol report' does) at the end of the scan.")] = None,
) -> None:
    """Scan BASE and write one Parquet report to -o."""
    _arrow_without_pandas()
    from pixel_patrol_base.cli_run import run_process

    code = run_process(
        base_dir=base_dir,
        output=output,
        paths=paths or [],
        loader=loader,
        name=name,
        description=description,
        flavor=flavor,
        log_file=log_file,
        settings_kw={
            "processors_include": processors_include or (),
            "processors_exclude": processors_exclude or (),
            "file_extensions": file_extensions,
            "slice_size": slice_size,
            "max_workers": max_workers,
            "scheduler": scheduler,
            "mb_per_task": mb_per_task,
            "max_images_per_task": max_images_per_task,
            "rows_per_part": rows_per_part,
            "parquet_row_group_size": parquet_row_group_size,
            "omit_base_dir": omit_base_dir,
            "fail_on_error": fail_on_error,
            "resume": resume,
            "incremental": incremental,
            "overwrite": overwrite,
            "allow_any_extension": allow_any_extension,
            "task_timeout": task_timeout,
        },
        html=html,
    )
    raise typer.Exit(code)


@app.command("check")
def check(
    report: Annotated[str, typer.Argument(metavar="REPORT", help="Report written by 'pixel-patrol process' (.parquet).", show_default=False)],
    expect: Annotated[str | None, typer.Option("--expect", metavar="FILE", help="Expectations file (TOML): what the dataset must look like, and rule thresholds.")] = None,
    json_out: Annotated[str | None, typer.Option("--json", metavar="FILE", help="Also write the findings as JSON (versioned format, see docs/findings.md).")] = None,
    fail_on: Annotated[str, typer.Option("--fail-on", metavar="LEVEL", help="Exit with 1 when a finding is at or above this severity: error, warning or info.")] = "error",
    min_severity: Annotated[str, typer.Option("--min-severity", metavar="LEVEL", help="Show (and write to --json) only findings at or above this severity.")] = "info",
) -> None:
    """List what is wrong with a report's dataset, worst first (exit 1 at --fail-on)."""
    _arrow_without_pandas()
    from pixel_patrol_base.cli_check import run_check_command

    raise typer.Exit(run_check_command(report, expect, json_out, fail_on, min_severity))


@app.command("report")
def report(
    report_file: Annotated[str, typer.Argument(metavar="REPORT.parquet", help="Report written by 'pixel-patrol process'.", show_default=False)],
    output: Annotated[str, typer.Option("-o", "--output", metavar="FILE", help="HTML file to write (e.g. report.html).", show_default=False)],
    group_by: Annotated[str, typer.Option("--group-by", metavar="COLUMN", help="Categorical column whose values are the groups compared on the page.")] = "path",
    expect: Annotated[str | None, typer.Option("--expect", metavar="FILE.toml", help="Expectations file; its violations are findings on the page.")] = None,
    max_thumbnails: Annotated[int, typer.Option("--max-thumbnails", metavar="N", help="Most thumbnails embedded: the findings' files first, then a sample.")] = 256,
    title: Annotated[str | None, typer.Option("--title", metavar="TEXT", help="Page title (default: the project name).")] = None,
) -> None:
    """Write one self-contained HTML page that shows REPORT, findings first."""
    _arrow_without_pandas()
    from pixel_patrol_base.cli_report import run_report

    raise typer.Exit(run_report(report_file, output, group_by=group_by, expect=expect, max_thumbnails=max_thumbnails, title=title))


@app.command("list-plugins")
def list_plugins() -> None:
    """Show installed loaders and processors with their package and version."""
    from pixel_patrol_base.plugins import LOADER_GROUP, PROCESSOR_GROUP
    from pixel_patrol_base.plugins import list_plugins as _list

    for title, group in (("loaders", LOADER_GROUP), ("processors", PROCESSOR_GROUP)):
        typer.echo(f"{title}:")
        items = _list(group)
        if not items:
            typer.echo("  (none installed)")
        for p in items:
            typer.echo(f"  {p.id:<20} {p.package} {p.version}")


class _NoPandas:
    """Import blocker used once per process (see :func:`_arrow_without_pandas`)."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("not needed by the command line")


def _arrow_without_pandas() -> None:
    """Keep pyarrow from importing pandas (over a second) on its first ``pa.array`` call.

    pyarrow probes for pandas once per process and remembers the answer; the command line
    never converts to pandas, so it answers "absent". Libraries that import pandas themselves
    (readers on workers) still can. Called by the commands that use Arrow, not at start-up,
    so ``--help``, ``--version`` and ``list-plugins`` do not import pyarrow (~0.2 s of CPU).
    """
    import pyarrow as pa

    if "pandas" in sys.modules:
        return
    blocker = _NoPandas()
    sys.meta_path.insert(0, blocker)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(blocker)


def main(argv: list[str] | None = None) -> None:
    """Run one command line; raises ``SystemExit`` with its status, as a Typer app does."""
    app(args=argv if argv is not None else sys.argv[1:], prog_name="pixel-patrol")


def entry() -> None:
    """Console-script entry point: :func:`main`, then a quick exit (see ``quick_exit``)."""
    from pixel_patrol_base.quick_exit import run_then_exit

    run_then_exit(main)


if __name__ == "__main__":  # pragma: no cover
    entry()


__all__ = ["app", "entry", "main"]
