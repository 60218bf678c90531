"""The body of ``pixel-patrol check``: findings on the terminal, optional JSON, the exit code.

Exit codes: 0 when no finding is at or above ``--fail-on`` (default ``error``), 1 when one is,
2 for bad input (unreadable report, bad expectations file, bad option value), which is one line
on stderr naming the file and the problem, never a traceback.
"""

from __future__ import annotations

import sys
from typing import TextIO

from pixel_patrol_base.errors import PixelPatrolError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
LEVELS = ("error", "warning", "info")


def _fail(message: str) -> int:
    sys.stderr.write(f"pixel-patrol: error: {' '.join(message.split())}\n")
    return EXIT_USAGE


def run_check_command(
    report: str,
    expect: str | None,
    json_out: str | None,
    fail_on: str,
    min_severity: str,
    out: TextIO | None = None,
) -> int:
    """Check ``report``; returns the process exit code."""
    from pixel_patrol_base.findings.engine import run_check
    from pixel_patrol_base.findings.jsonout import write_json
    from pixel_patrol_base.findings.model import severity_rank
    from pixel_patrol_base.findings.render import render, visible

    for option, value in (("--fail-on", fail_on), ("--min-severity", min_severity)):
        if value not in LEVELS:
            return _fail(f"{option}: expected one of {', '.join(LEVELS)}, got {value!r}")
    try:
        result = run_check(report, expect)
        if json_out is not None:
            write_json(result, json_out, visible(result.findings, min_severity))  # type: ignore[arg-type]
    except PixelPatrolError as exc:
        return _fail(str(exc))
    render(result, out or sys.stdout, min_severity)  # type: ignore[arg-type]
    limit = severity_rank(fail_on)  # type: ignore[arg-type]
    failed = any(severity_rank(f.severity) <= limit for f in result.findings)
    return EXIT_FINDINGS if failed else EXIT_OK
