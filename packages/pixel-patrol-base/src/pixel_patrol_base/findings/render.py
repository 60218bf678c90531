"""Findings for people: a ranked table in a terminal, plain lines in a pipe.

In a terminal the table fits the window (rich wraps cells) and severities are coloured. Written
to a pipe or a file the same content comes as plain text blocks: no colour codes, no wrapping
and no assumed width, so ``grep`` and log files see whole lines. Paths are shown relative to
the folder all the report's files share; the JSON keeps them as they are in the report.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TextIO

from pixel_patrol_base.findings.engine import CheckResult
from pixel_patrol_base.findings.model import Finding, Severity, severity_rank

COLOURS = {"error": "bold red", "warning": "yellow", "info": "cyan"}
SHOWN_FILES = 5
"""Files named per finding in the terminal; the JSON lists all."""


def visible(findings: Sequence[Finding], min_severity: Severity) -> list[Finding]:
    """Findings at or above ``min_severity``."""
    return [f for f in findings if severity_rank(f.severity) <= severity_rank(min_severity)]


def counts(findings: Sequence[Finding]) -> str:
    """'2 errors, 1 warning, 0 info'."""
    n = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}
    return f"{n['error']} error{'s' * (n['error'] != 1)}, {n['warning']} warning{'s' * (n['warning'] != 1)}, {n['info']} info"


def _base(result: CheckResult, findings: Sequence[Finding]) -> str:
    paths = {p for f in findings for p in f.files}
    if len(paths) < 2:
        return os.path.dirname(next(iter(paths))) if paths else ""
    try:
        return os.path.commonpath(sorted(paths))
    except ValueError:
        return ""


def _short(path: str, base: str) -> str:
    if base and path.startswith(base):
        return path[len(base) :].lstrip("/\\") or path
    return path


def where(finding: Finding, base: str, limit: int = SHOWN_FILES) -> str:
    """Condition and files of a finding, with slice coordinates when there is one row."""
    parts = []
    if finding.condition is not None:
        parts.append(f"[{finding.condition}]")
    names = [_short(p, base) for p in finding.files[:limit]]
    if len(finding.rows) == 1:
        names = [_row_label(finding, base)]
    more = len(finding.files) - limit
    text = ", ".join(names) + (f" … +{more:,} more" if more > 0 else "")
    if text:
        parts.append(text)
    return " ".join(parts)


def _row_label(finding: Finding, base: str) -> str:
    key = finding.rows[0]
    label = _short(key.imported_path, base)
    if key.child_id is not None:
        label += f" [{key.child_id}]"
    dims = [f"{a}={getattr(key, 'dim_' + a)}" for a in "ztcs" if getattr(key, "dim_" + a) is not None]
    return label + (f" ({' '.join(dims)})" if dims else "")


def header(result: CheckResult, shown: Sequence[Finding]) -> list[str]:
    """The lines above the findings: what was checked, the counts, what was not checked."""
    s = result.summary
    conds = s.get("conditions", [])
    lines = [
        f"pixel-patrol check {s.get('report', '')}: {s.get('images', 0):,} images in {s.get('files', 0):,} files, "
        f"{len(conds)} condition{'s' * (len(conds) != 1)}",
        f"findings: {counts(result.findings)}" + ("" if len(shown) == len(result.findings) else f" ({len(shown)} shown)"),
    ]
    if result.skipped:
        lines.append("not checked: " + "; ".join(f"{k} ({v})" for k, v in result.skipped.items()))
    return lines


def render_plain(result: CheckResult, shown: Sequence[Finding], out: TextIO) -> None:
    """One block per finding, whole lines, no colour."""
    for line in header(result, shown):
        out.write(line + "\n")
    base = _base(result, shown)
    for f in shown:
        out.write(f"\n{f.severity.upper():8} {f.id}  {where(f, base, 10)}\n")
        out.write(f"         {f.message}\n")
        if f.action:
            out.write(f"         do: {f.action}\n")


def render_terminal(result: CheckResult, shown: Sequence[Finding], out: TextIO) -> None:
    """A coloured table that fits the terminal's width."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out, highlight=False, soft_wrap=False)
    for line in header(result, shown):
        console.print(Text(line))
    if not shown:
        console.print(Text("no problems found", style="green"))
        return
    table = Table(show_lines=True, expand=True, header_style="bold")
    table.add_column("severity", no_wrap=True, min_width=7)
    table.add_column("finding", no_wrap=True, min_width=10)
    for name, ratio in (("where", 3), ("evidence", 5), ("what to do", 3)):
        table.add_column(name, ratio=ratio, overflow="fold")
    base = _base(result, shown)
    for f in shown:
        table.add_row(
            Text(f.severity, style=COLOURS[f.severity]), Text(f.id), Text(where(f, base)), Text(f.message), Text(f.action)
        )
    console.print(table)


def render(result: CheckResult, out: TextIO, min_severity: Severity = "info") -> None:
    """Table in a terminal, plain text elsewhere."""
    shown = visible(result.findings, min_severity)
    if out.isatty():
        render_terminal(result, shown, out)
    else:
        render_plain(result, shown, out)
