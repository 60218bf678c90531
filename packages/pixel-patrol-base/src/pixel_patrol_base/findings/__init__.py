"""Findings: what is wrong with a dataset, computed from a report's Arrow table.

Pure functions over ``pyarrow`` / ``numpy`` only, so that a base-only install (an HPC login
node, a CI pipeline) can run ``pixel-patrol check``. The value type every consumer shares (the
terminal table, the JSON contract, the HTML report) is :class:`~.model.Finding`.
"""

from pixel_patrol_base.findings.model import (
    FINDINGS_FORMAT_VERSION,
    SCOPES,
    SEVERITIES,
    Finding,
    RowKey,
    Scope,
    Severity,
    severity_rank,
)

__all__ = [
    "FINDINGS_FORMAT_VERSION",
    "SCOPES",
    "SEVERITIES",
    "Finding",
    "RowKey",
    "Scope",
    "Severity",
    "severity_rank",
]
