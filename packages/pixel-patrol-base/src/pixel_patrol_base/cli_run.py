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
from pixel_patrol_base.progress import plural

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
    log_to = log_path(project.output_path) if log_file else None
    with _logging(log_to, private):
        code = _run(project, settings, log_to)
    if html is not None and code in (EXIT_OK, EXIT_FAILED) and project.output_path.is_file():
        from pixel_patrol_base.cli_report import run_report

        code = max(code, EXIT_FAILED if run_report(str(project.output_path), html) else EXIT_OK)
    return code


def _run(project: Any, settings: Any, log_file: Path | None) -> int:
    from pixel_patrol_base import api
    from pixel_patrol_base.progress import display
    from pixel_patrol_base.report import parts_dir

    t0 = time.perf_counter()
    try:
        with display() as progress, interrupts.installed():
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
    _log_cpu(summary)
    if summary.files == 0:
        log.warning("no files found under %s (check -p, -e and --loader)", project.base_dir)
    for line in summary_lines(summary, time.perf_counter() - t0, project.output_path, log_file):
        sys.stderr.write(f"pixel-patrol: {line}\n")
    if settings.fail_on_error and summary.errors:
        return EXIT_FAILED
    return EXIT_OK


def _log_cpu(summary: Any) -> None:
    """CPU seconds per role, in the debug log: the coordinator's own work (without tasks it
    ran itself) and the tasks' (wherever they ran)."""
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = me.ru_utime + me.ru_stime - summary.inline_cpu_s
    log.debug(
        "cpu: coordinator %.3f s, inline tasks %.3f s, tasks %.3f s, worker processes %.3f s, files %d",
        own, summary.inline_cpu_s, summary.stats.cpu_s, kids.ru_utime + kids.ru_stime, summary.files,
    )


def summary_lines(summary: Any, wall_s: float, output: Path, log_file: Path | None) -> list[str]:
    """The end-of-run summary: totals, files per condition, failures, reused and resumed files."""
    lines = [
        f"{plural(summary.files, 'file')}, {plural(summary.rows, 'row')}, "
        f"{plural(summary.errors, 'error')} in {wall_s:.1f} s -> {output}"
    ]
    if len(summary.conditions) > 1:
        parts = []
        for cond, n in sorted(summary.conditions.items()):
            failed = summary.failed_by_condition.get(cond, 0)
            parts.append(f"{cond}: {plural(n, 'file')}" + (f" ({failed:,} failed)" if failed else ""))
        lines.append("conditions: " + "; ".join(parts))
    lines += _failure_lines(summary, output, log_file)
    lines += _unsupported_lines(summary)
    kept = []
    if summary.resumed:
        kept.append(f"{plural(summary.resumed, 'file')} resumed from the interrupted run")
    if summary.incremental is not None:
        inc = summary.incremental
        kept.append(
            f"incremental: {inc['reused']:,} reused, {inc['new']:,} new,"
            f" {inc['changed']:,} changed, {inc['removed']:,} removed"
        )
    return lines + kept


def _failure_lines(summary: Any, output: Path, log_file: Path | None) -> list[str]:
    if not summary.errors:
        return []
    shown = summary.failures
    lines = [f"failed ({summary.errors:,}):"] + [f"  {path}: {cause}" for path, _stage, cause in shown]
    rest = summary.errors - len(shown)
    if rest > 0:
        where = f"{log_file} and " if log_file is not None else ""
        lines.append(f"  ... and {rest:,} more: all are listed in {where}the 'error' column of {output}")
    return lines


def _unsupported_lines(summary: Any) -> list[str]:
    """Files the loader did not read, and images that got file facts only (one line each)."""
    from pixel_patrol_base.accounting import summary_lines as accounting_lines

    return accounting_lines(summary.accounting)


class _Stderr:
    """Writes to whatever ``sys.stderr`` is at the time, so a live progress bar that redirects
    it prints log lines above the bar instead of through it."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


@contextmanager
def _logging(log_file: Path | None, private_base: Path | None = None) -> Iterator[None]:
    """INFO to stderr; with ``--log-file`` everything (DEBUG, libraries too) to ``log_file``.

    Each record is written once: our records go to the terminal handler and propagate to the
    root logger, which alone holds the file handler. With ``private_base`` (``--omit-base-dir``)
    no line quotes that folder absolutely.
    """
    ours = logging.getLogger("pixel_patrol_base")
    top = logging.getLogger()
    term = logging.StreamHandler(_Stderr())
    term.setLevel(logging.INFO)
    term.setFormatter(_formatter("pixel-patrol: %(message)s", private_base))
    # Libraries (readers, Dask) log through the root logger; their messages belong in the debug
    # log, not on the terminal, where a corrupt file could otherwise print thousands of lines.
    sink: logging.Handler = logging.NullHandler()
    if log_file is not None:
        sink = logging.FileHandler(log_file, mode="w", encoding="utf-8")
        sink.setLevel(logging.DEBUG)
        sink.setFormatter(_formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", private_base))
    old = ours.level
    ours.setLevel(logging.DEBUG if log_file else logging.INFO)
    ours.addHandler(term)
    top.addHandler(sink)
    if log_file is not None:
        ours.info("debug log: %s", log_file)
    try:
        yield
    finally:
        top.removeHandler(sink)
        ours.removeHandler(term)
        sink.close()
        term.close()
        ours.setLevel(old)


def _formatter(fmt: str, private_base: Path | None) -> logging.Formatter:
    if private_base is None:
        return logging.Formatter(fmt)
    from pixel_patrol_base.privacy import RelativeFormatter, base_forms

    return RelativeFormatter(fmt, base_forms(private_base))
