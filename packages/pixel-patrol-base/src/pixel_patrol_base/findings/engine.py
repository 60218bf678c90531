"""Run every rule over a report and rank the findings: the core of ``pixel-patrol check``.

A rule runs when the report has the columns it needs; otherwise it is listed as skipped with
the reason (a file-info-only scan has no pixel statistics), so an empty result never hides
that nothing could be checked.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from pixel_patrol_base.findings import (
    rules_blank,
    rules_duplicates,
    rules_files,
    rules_metadata,
    rules_outliers,
    rules_pixels,
    rules_sharpness,
)
from pixel_patrol_base.findings.context import Context
from pixel_patrol_base.findings.expectations import (
    Expectations,
    load_expectations,
    parse_expectations,
)
from pixel_patrol_base.findings.frame import BatchTap, Frame, failing_taps, read_frame
from pixel_patrol_base.findings.model import Finding, severity_rank
from pixel_patrol_base.findings.params import RULES, Settings
from pixel_patrol_base.findings.rules_expect import expectation

Rule = Callable[[Context], list[Finding]]

FEATURE_RULES = frozenset({"blank", "low-range", "near-duplicate"})
"""Rules that need the streamed features (percentiles, perceptual hashes): they run last, so the
others overlap with the streaming."""

RULE_TABLE: tuple[tuple[str, Rule, tuple[str, ...]], ...] = (
    ("unreadable", rules_files.unreadable, ("error",)),
    ("clipped", rules_pixels.clipped, ("dtype", "max_intensity", "min_intensity", "count_at_max", "count_at_min", "finite_pixel_count")),
    ("blank", rules_blank.blank, ("std_intensity", "finite_pixel_count", "num_pixels")),
    ("focus", rules_sharpness.focus, ("laplacian_variance",)),
    ("blurry", rules_sharpness.blurry, ("laplacian_variance", "dtype")),
    ("outlier", rules_outliers.outlier, ("dtype",)),
    ("duplicate", rules_duplicates.duplicate, ("pixel_hash",)),
    ("near-duplicate", rules_duplicates.near_duplicate, ("thumbnail",)),
    ("inconsistent", rules_metadata.inconsistent, ("dtype",)),
    ("missing-metadata", rules_metadata.missing_metadata, ("pixel_size_X",)),
    ("non-finite", rules_pixels.non_finite, ("finite_pixel_count", "num_pixels")),
    ("low-range", rules_pixels.low_range, ("histogram_counts", "max_intensity", "std_intensity", "dtype")),
    ("condition-shift", rules_outliers.condition_shift, ("dtype",)),
    ("uneven-conditions", rules_files.uneven_conditions, ("path",)),
    ("mixed-formats", rules_files.mixed_formats, ("file_extension",)),
)
"""(finding id, rule, columns it needs), in the order findings of equal severity are shown."""

ORDER = {rid: i for i, (rid, _, _) in enumerate(RULE_TABLE)} | {"expectation": -1}


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Ranked findings plus what the run could not check and a few counts about the report."""

    findings: list[Finding]
    skipped: dict[str, str] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


ExpectationsLike = Expectations | Mapping[str, Any] | str | os.PathLike[str] | None


def as_expectations(expectations: ExpectationsLike) -> Expectations | None:
    """A file path, a parsed mapping or an :class:`Expectations` value (None: no expectations)."""
    if expectations is None or isinstance(expectations, Expectations):
        return expectations
    if isinstance(expectations, Mapping):
        return parse_expectations(expectations)
    return load_expectations(expectations)


def run_check(
    source: str | os.PathLike[str] | pa.Table, expectations: ExpectationsLike = None, taps: Mapping[str, BatchTap] | None = None
) -> CheckResult:
    """Read the report (expectations first, so a bad file fails fast) and run every rule.

    ``taps`` see the heavy columns' batches as the check streams them (see
    :class:`~pixel_patrol_base.findings.frame.BatchTap`); each is told ``done`` in every case.
    """
    with failing_taps(taps):
        exp = as_expectations(expectations)
    settings = exp.settings if exp is not None else Settings()
    metrics = {m for rule in ("outlier", "condition-shift") for m in settings.get(rule, "metrics")}
    frame = read_frame(source, frozenset(metrics), taps)
    return check_frame(frame, exp)


def check_frame(frame: Frame, exp: Expectations | None = None) -> CheckResult:
    """Every enabled rule over ``frame``, findings ranked: severity, rule, condition, size."""
    ctx = Context(frame, exp.settings) if exp is not None else Context(frame)
    findings: list[Finding] = []
    skipped: dict[str, str] = {}
    ordered = sorted(RULE_TABLE, key=lambda r: r[0] in FEATURE_RULES)
    try:
        for rid, rule, needs in ordered:
            if not ctx.settings.enabled(rid):
                skipped[rid] = "disabled in the expectations file"
                continue
            missing = [c for c in needs if not frame.has(c)]
            if missing:
                skipped[rid] = f"the report has no {missing[0]} column"
                continue
            findings += rule(ctx)
        if exp is not None and ctx.settings.enabled("expectation"):
            findings += expectation(ctx, exp)
    finally:
        frame.wait()
    return CheckResult(rank(findings), dict(sorted(skipped.items(), key=lambda kv: ORDER[kv[0]])), _summary(frame))


def rank(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then information; within a severity by rule and size."""
    return sorted(
        findings,
        key=lambda f: (severity_rank(f.severity), ORDER.get(f.id, 99), f.condition or "", -len(f.rows)),
    )


def _summary(frame: Frame) -> dict[str, Any]:
    return {
        "report": frame.name,
        "rows": frame.n,
        "files": len(np.unique(frame.path.codes)) if frame.n else 0,
        "images": len(frame.image_rows),
        "failed": len(np.unique(frame.path.codes[frame.error])),
        "conditions": sorted({frame.condition(i) for i in np.unique(frame.cond.codes, return_index=True)[1]}) if frame.n else [],
    }


def known_rules() -> list[str]:
    """Every finding id, in display order."""
    return [rid for rid, _, _ in RULE_TABLE] + ["expectation"]


assert set(known_rules()) == set(RULES), "every finding id needs settings in params.RULES"
