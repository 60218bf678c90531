"""The finding value: one problem, where it is, the evidence and what to do.

This is a contract shared by ``pixel-patrol check`` (terminal and ``--json``), ``api.check`` and
the HTML report. Its JSON form is versioned (:data:`FINDINGS_FORMAT_VERSION`); adding a field is
a minor change, renaming or removing one needs a new version (docs/findings.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

FINDINGS_FORMAT_VERSION = 1

Severity = Literal["error", "warning", "info"]
Scope = Literal["dataset", "condition", "file", "image", "slice"]

SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
SCOPES: tuple[Scope, ...] = ("dataset", "condition", "file", "image", "slice")


def severity_rank(severity: Severity) -> int:
    """0 for ``error`` (most severe) … 2 for ``info``: sort keys and ``--fail-on`` comparisons."""
    return SEVERITIES.index(severity)


@dataclass(frozen=True, slots=True)
class RowKey:
    """Identifies one report row: the file, the sub-image and the slice (``dim_*``; None = spans)."""

    imported_path: str
    child_id: str | None = None
    dim_z: int | None = None
    dim_t: int | None = None
    dim_c: int | None = None
    dim_s: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Only the keys that are set, so image-level keys stay short."""
        out: dict[str, Any] = {"imported_path": self.imported_path}
        for key in ("child_id", "dim_z", "dim_t", "dim_c", "dim_s"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a report, grouped so that many rows with one cause are one finding.

    ``value`` is the measured evidence (the worst one when rows are grouped) and ``threshold``
    the limit it crossed, both in the unit the message names. ``condition`` is the ``path``
    label the finding is about (None for dataset-wide findings). ``evidence`` holds per-row
    values, aligned with ``rows`` when given, for displays that show each row's number.
    ``action`` says what the user can do about it.
    """

    id: str
    severity: Severity
    scope: Scope
    message: str
    files: tuple[str, ...] = ()
    rows: tuple[RowKey, ...] = ()
    value: float | int | str | None = None
    threshold: float | int | str | None = None
    condition: str | None = None
    action: str = ""
    evidence: tuple[float | int | str | None, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """The documented JSON object for this finding (docs/findings.md)."""
        return {
            "id": self.id,
            "severity": self.severity,
            "scope": self.scope,
            "condition": self.condition,
            "message": self.message,
            "action": self.action,
            "value": self.value,
            "threshold": self.threshold,
            "files": list(self.files),
            "rows": [r.to_json() for r in self.rows],
            "evidence": list(self.evidence),
        }
