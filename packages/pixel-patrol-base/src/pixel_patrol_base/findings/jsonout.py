"""The findings as a versioned JSON document (docs/findings.md describes every field)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pixel_patrol_base.errors import ReportError
from pixel_patrol_base.findings.engine import CheckResult
from pixel_patrol_base.findings.model import FINDINGS_FORMAT_VERSION, Finding


def document(result: CheckResult, findings: Sequence[Finding] | None = None) -> dict[str, Any]:
    """The JSON object: format and version, the report summary, skipped rules, findings."""
    shown = result.findings if findings is None else findings
    return {
        "format": "pixel-patrol-findings",
        "version": FINDINGS_FORMAT_VERSION,
        "summary": result.summary,
        "counts": {s: sum(1 for f in result.findings if f.severity == s) for s in ("error", "warning", "info")},
        "skipped": result.skipped,
        "findings": [f.to_json() for f in shown],
    }


def write_json(result: CheckResult, path: str | os.PathLike[str], findings: Sequence[Finding] | None = None) -> None:
    """Write :func:`document` to ``path`` (UTF-8, atomically through a temporary name)."""
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    try:
        tmp.write_text(json.dumps(document(result, findings), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, p)
    except OSError as exc:
        raise ReportError(f"{p}: cannot write the findings ({exc.strerror or exc})") from exc
