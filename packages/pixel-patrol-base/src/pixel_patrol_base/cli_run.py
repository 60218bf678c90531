"""The body of ``pixel-patrol process``: validation, logging, progress and the exit code."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pixel_patrol_base import interrupts
from pixel_patrol_base.errors import (
    MissingDependencyError,
    PixelPatrolError,
    PluginError,
    SettingsError,
)
from pixel_patrol_base.outputs import log_path

log = logging.getLogger("pixel_patrol_base")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"pixel-patrol: error: {' '.join(message.split())}\n")
    return code


def run_process(
    *,
    base_dir: str,
    output: str,
    paths: list[str],
    loader: str | None,
    name: str | None,
    description: str,
    flavor: str,
    log_file: bool,
    settings_kw: dict[str, Any],
    html: str | None = None,
) -> int:
    """Run a scan from CLI values; returns the process exit code.

    With ``html`` the report page is written after a successful scan; its output path and the
    ``report`` extra are checked before scanning, so a bad ``--html`` costs no scan.
    """
    from pixel_patrol_base import api
    from pixel_patrol_base.outputs import check_run_outputs

    try:
        base = Path(base_dir)
        project = api.create_project(
            name if name is not None else (Path(base_dir).resolve().name or "project"),
            base,
            loader=loader,
            output_path=output,
            description=description,
            flavor=flavor,
        )
        if paths:
            project = api.add_paths(project, paths)
        settings = api.make_settings(**settings_kw)
        check_run_outputs(project, settings, log_file)
        if html is not None:
            from pixel_patrol_base.cli_report import preflight

            preflight(html)
    except (SettingsError, PluginError, MissingDependencyError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    private = project.base_dir if settings.omit_base_dir else None
    with _logging(project.output_path if log_file else None, private):
        code = _run(project, settings)
    if html is not None and code in (EXIT_OK, EXIT_FAILED) and project.output_path.is_file():
        from pixel_patrol_base.cli_report import run_report

        code = max(code, EXIT_FAILED if run_report(str(project.output_path), html) else EXIT_OK)
    return code


def _run(project: Any, settings: Any) -> int:
    from pixel_patrol_base import api
    from pixel_patrol_base.report import parts_dir

    t0 = time.perf_counter()
    try:
        with _progress() as progress, interrupts.installed():
            summary = api.run(project, settings, progress)
    except KeyboardInterrupt:
        return _fail(
            f"interrupted; completed work is kept in {parts_dir(project.output_path)};"
            " run the same command with --resume to continue",
            EXIT_INTERRUPTED,
        )
    except (SettingsError, PluginError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except PixelPatrolError as exc:
        return _fail(str(exc), EXIT_FAILED)
    except Exception as exc:
        log.debug("run failed", exc_info=True)
        return _fail(f"{type(exc).__name__}: {exc}", EXIT_FAILED)
    if summary.files == 0:
        log.warning("no files found under %s (check -p, -e and --loader)", project.base_dir)
    sys.stderr.write(
        f"pixel-patrol: {summary.files} files, {summary.rows} rows, {summary.errors} errors"
        f" in {time.perf_counter() - t0:.1f} s -> {project.output_path}\n"
    )
    _accounting_lines(summary.accounting)
    if summary.incremental is not None:
        inc = summary.incremental
        sys.stderr.write(
            f"pixel-patrol: incremental: {inc['reused']} reused, {inc['new']} new,"
            f" {inc['changed']} changed, {inc['removed']} removed\n"
        )
    if settings.fail_on_error and summary.errors:
        return EXIT_FAILED
    return EXIT_OK


def _accounting_lines(stats: dict[str, Any]) -> None:
    """Files the loader did not read, and images that got file facts only (one line each)."""
    from pixel_patrol_base.accounting import summary_lines

    for line in summary_lines(stats):
        sys.stderr.write(f"pixel-patrol: {line}\n")


@contextmanager
def _logging(report: Path | None, private_base: Path | None = None) -> Iterator[None]:
    """INFO to stderr; with ``--log-file`` also DEBUG to ``<report>.log``.

    With ``private_base`` (``--omit-base-dir``) no line quotes that folder absolutely.
    """
    root = logging.getLogger("pixel_patrol_base")
    handlers: list[logging.Handler] = []
    term = logging.StreamHandler(sys.stderr)
    term.setLevel(logging.INFO)
    term.setFormatter(_formatter("pixel-patrol: %(message)s", private_base))
    handlers.append(term)
    if report is not None:
        path = log_path(report)
        fh = logging.FileHandler(path, mode="w", encoding="utf-8")
        fh.setLevel(logging.DEBUG)
        fh.setFormatter(_formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", private_base))
        handlers.append(fh)
    old = root.level
    root.setLevel(logging.DEBUG if report else logging.INFO)
    for h in handlers:
        root.addHandler(h)
    # Libraries (readers, Dask) log through the root logger; their messages belong in the debug
    # log, not on the terminal, where a corrupt file could otherwise print thousands of lines.
    top = logging.getLogger()
    others: logging.Handler = handlers[-1] if report is not None else logging.NullHandler()
    top.addHandler(others)
    if report is not None:
        root.info("debug log: %s", log_path(report))
    try:
        yield
    finally:
        top.removeHandler(others)
        for h in handlers:
            root.removeHandler(h)
            h.close()
        root.setLevel(old)


def _formatter(fmt: str, private_base: Path | None) -> logging.Formatter:
    if private_base is None:
        return logging.Formatter(fmt)
    from pixel_patrol_base.privacy import RelativeFormatter, base_forms

    return RelativeFormatter(fmt, base_forms(private_base))


@contextmanager
def _progress() -> Iterator[Any]:
    """A progress bar on a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("scanning", total=None, rate="")
        t0 = time.perf_counter()

        def update(done: int, found: int, finished: bool) -> None:
            rate = done / max(time.perf_counter() - t0, 1e-9)
            bar.update(task, completed=done, total=found if finished else None,
                       description="processing" if finished else "processing (still discovering)",
                       rate=f"{rate:.1f} files/s")

        yield update
