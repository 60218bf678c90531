"""Pixel-value rules: ``clipped``, ``non-finite`` and ``low-range``."""

from __future__ import annotations

import numpy as np

from pixel_patrol_base.findings.build import (
    Text,
    by_condition_and_scope,
    count_phrase,
    finding,
    pct,
    ranked_by_condition,
    uncovered,
)
from pixel_patrol_base.findings.context import Context
from pixel_patrol_base.findings.model import Finding, Severity

CLIP_HIGH = (
    "Lower exposure, gain or illumination (or acquire at a higher bit depth): saturated "
    "pixels have lost their true intensity and bias any measurement."
)
CLIP_LOW = (
    "Raise the camera offset (black level) or exposure: pixels at the type's minimum have "
    "lost their true intensity; background subtraction should not clip at zero."
)


def clipped(ctx: Context) -> list[Finding]:
    """Pixels at 2^b − 1 (and at the type's minimum) above the warning/error fractions."""
    f, bits = ctx.frame, ctx.bits
    rows = np.flatnonzero(f.measured & bits.known)
    finite = f.num("finite_pixel_count")[rows]
    out: list[Finding] = []
    low_end = ctx.per_row("clipped", "low_end", rows) > 0
    ends = [
        ("high", "max_intensity", "count_at_max", bits.top, np.ones(len(rows), dtype=bool)),
        ("low", "min_intensity", "count_at_min", bits.bottom, low_end),
    ]
    for end, extreme, count, limit, wanted in ends:
        at = (f.num(extreme)[rows] == limit[rows]) & (finite > 0) & wanted
        frac = np.where(at, f.num(count)[rows] / np.maximum(finite, 1), 0.0)
        warn = ctx.per_row("clipped", "warning", rows)
        err = ctx.per_row("clipped", "error", rows)
        is_err, is_warn = at & (frac >= err), at & (frac >= warn) & (frac < err)
        out += _clip_findings(ctx, rows[is_err], frac[is_err], end, "error", rows[is_err])
        cover = rows[is_err | is_warn]
        out += _clip_findings(ctx, rows[is_warn], frac[is_warn], end, "warning", cover)
    return out


def _clip_findings(
    ctx: Context,
    flagged: np.ndarray,
    frac: np.ndarray,
    end: str,
    severity: Severity,
    cover: np.ndarray,
) -> list[Finding]:
    """Findings of one end and severity; rows under a flagged coarser row are left out."""
    f = ctx.frame
    keep = np.isin(flagged, uncovered(f, flagged, cover))
    flagged, frac = flagged[keep], frac[keep]
    out = []
    for cond, rows, vals in ranked_by_condition(f, flagged, frac, rank=np.negative):
        limit = ctx.settings.get("clipped", severity, cond)
        where = _level(ctx, rows, end)
        text = Text(
            lambda r, v=vals, w=where, lim=limit: (
                f"{count_phrase(f, r)} have {pct(v[0]) if len(v) == 1 else 'up to ' + pct(v[0])} "
                f"of pixels at {w} (limit {pct(lim)})"
            ),
            CLIP_HIGH if end == "high" else CLIP_LOW,
        )
        out.append(finding(f, "clipped", severity, rows, text, value=vals[0], threshold=limit, evidence=vals, condition=cond))
    return out


def _level(ctx: Context, rows: np.ndarray, end: str) -> str:
    """'the 12-bit maximum 4095', 'the type minimum 0' or a list when rows differ."""
    b = ctx.bits
    if end == "low":
        lows = np.unique(b.bottom[rows])
        return f"the type minimum {int(lows[0])}" if len(lows) == 1 else "the type minimum"
    tops = np.unique(b.top[rows])
    if len(tops) == 1:
        depth = np.unique(b.bits[rows])
        label = f"{int(depth[0])}-bit " if len(depth) == 1 else ""
        stated = " (stated)" if bool(b.stated[rows].all()) else ""
        return f"the {label}maximum {int(tops[0])}{stated}"
    return "the bit-depth maximum"


def non_finite(ctx: Context) -> list[Finding]:
    """Rows with NaN or ±Inf pixels (rows with no finite pixel at all are ``blank``)."""
    f = ctx.frame
    finite, total = f.num("finite_pixel_count"), f.num("num_pixels")
    bad = f.measured & (finite < total) & (finite > 0)
    flagged = uncovered(f, np.flatnonzero(bad))
    frac = 1.0 - finite / np.maximum(total, 1)
    out = []
    for cond, rows in by_condition_and_scope(f, flagged):
        rows = rows[np.argsort(-frac[rows], kind="stable")]
        text = Text(
            lambda r, v=frac[rows]: f"{count_phrase(f, r)} contain NaN or ±Inf pixels (up to {pct(v[0])})",
            "Check how the files were made (division by zero, masked exports): NaN and Inf are "
            "left out of every statistic, but most analysis tools propagate them.",
        )
        out.append(finding(f, "non-finite", "warning", rows, text, value=frac[rows][0], threshold=0, evidence=frac[rows], condition=cond))
    return out


def low_range(ctx: Context) -> list[Finding]:
    """Images whose p1–p99 range uses less than the set fraction of 2^b − 1 (info)."""
    f, bits = ctx.frame, ctx.bits
    rows = f.image_rows
    rows = rows[bits.known[rows] & (f.num("std_intensity")[rows] > 0)]
    span = (f.p99[rows] - f.p1[rows]) / (2.0 ** bits.bits[rows] - 1)
    limit = ctx.per_row("low-range", "fraction", rows)
    hit = np.isfinite(span) & (span < limit)
    flagged, span = rows[hit], span[hit]
    out = []
    for cond, group, vals in ranked_by_condition(f, flagged, span, rank=lambda v: v):
        limit_c = ctx.settings.get("low-range", "fraction", cond)
        text = Text(
            lambda r, v=vals, lc=limit_c: (
                f"{count_phrase(f, r)} use at most {pct(v[-1])} of their bit depth between the "
                f"1st and 99th percentile (down to {pct(v[0])}; limit {pct(lc)})"
            ),
            "Increase exposure or gain if the signal allows: a narrow range wastes bit depth and "
            "makes quantisation steps a large part of the signal.",
        )
        out.append(finding(f, "low-range", "info", group, text, value=vals[0], threshold=limit_c, evidence=vals, condition=cond))
    return out
