"""Distribution rules: ``outlier`` (one image against its condition) and ``condition-shift``.

Images are compared per channel and dtype: a 16-bit nuclear stain and an 8-bit overview do not
share a scale. ``outlier`` uses the modified z-score (Iglewicz & Hoaglin 1993) of each metric.
``condition-shift`` asks whether a whole condition differs from all others: Mann–Whitney U
(two-sided, Bonferroni over every test made) for significance and Cliff's δ for size, reported
only when both hold (p < α and |δ| > 0.47, Romano et al. 2006's "large"). It is information:
a shift can be the biology the experiment is about, or a batch effect.
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_base.findings.build import (
    Text,
    count_phrase,
    finding,
    plural,
    ranked_by_condition,
)
from pixel_patrol_base.findings.context import Context
from pixel_patrol_base.findings.groups import channel_rows, compare_groups
from pixel_patrol_base.findings.model import Finding
from pixel_patrol_base.findings.stats import RankSum, modz_and_median, rank_sum_tests

OUTLIER_ACTION = "Open these images: a wrong setting, an artefact or an unusual field of view; exclude them if they are not representative."
SHIFT_ACTION = "If the conditions were meant to differ only in treatment, check for a batch effect (acquisition day, settings) on this metric."


def outlier(ctx: Context) -> list[Finding]:
    """Per metric: images whose |modified z| within condition × channel × dtype exceeds the limit."""
    f = ctx.frame
    rows, channel = channel_rows(f)
    group, n_groups = compare_groups(f, rows, channel)
    if not n_groups:
        return []
    size = np.bincount(group, minlength=n_groups)[group]
    enough = size >= ctx.per_row("outlier", "min_images", rows)
    limit = ctx.per_row("outlier", "modz", rows)
    floor = ctx.per_row("outlier", "min_change", rows)
    out: list[Finding] = []
    for metric in ctx.settings.get("outlier", "metrics"):
        if not f.has(metric):
            continue
        values = f.num(metric)[rows]
        z, med = modz_and_median(values, group, n_groups)
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.abs(values - med) / np.abs(med)
        hit = enough & (np.abs(z) > limit) & (change >= floor)
        out += _metric_findings(ctx, metric, rows[hit], z[hit])
    return out


def _metric_findings(ctx: Context, metric: str, flagged: np.ndarray, z: np.ndarray) -> list[Finding]:
    f = ctx.frame
    out = []
    for cond, grp, vals in ranked_by_condition(f, flagged, z, rank=lambda v: -np.abs(v)):
        limit = ctx.settings.get("outlier", "modz", cond)
        text = Text(
            lambda r, v=vals, lim=limit: f"{count_phrase(f, r)} have an unusual {metric} for their condition (modified z {v[0]:+.1f}, limit ±{lim})",
            OUTLIER_ACTION,
        )
        out.append(finding(f, "outlier", "warning", grp, text, value=vals[0], threshold=limit, evidence=vals, condition=cond))
    return out


def condition_shift(ctx: Context) -> list[Finding]:
    """Conditions that differ from all other images on a metric (information)."""
    f = ctx.frame
    if len(f.cond.values) < 2:
        return []
    rows, channel = channel_rows(f)
    dtype = f.strings("dtype").codes[rows]
    strata: list[tuple[int, int]] = sorted({(int(d), int(c)) for d, c in zip(dtype, channel, strict=True)})
    tests: list[_Test] = []
    for metric in ctx.settings.get("condition-shift", "metrics"):
        if not f.has(metric):
            continue
        values = f.num(metric)
        for d, c in strata:
            sel = rows[(dtype == d) & (channel == c)]
            sel = sel[np.isfinite(values[sel]) & (f.cond.codes[sel] >= 0)]
            tests += _tests(ctx, metric, sel, values[sel])
    n_tests = max(1, len(tests))
    out = []
    for metric, code, sel, res, others in tests:
        cond = ctx.cond_label(code)
        alpha = ctx.settings.get("condition-shift", "alpha", cond)
        delta = ctx.settings.get("condition-shift", "cliffs_delta", cond)
        p = min(1.0, res.p * n_tests)
        if p < alpha and abs(res.delta) > delta:
            out.append(_shift_finding(ctx, metric, cond, sel, res, p, delta, others))
    return out


# metric, condition code, rows, test result, what the condition was compared with
_Test = tuple[str, int, np.ndarray, RankSum, str]


def _compared_with(ctx: Context, present: np.ndarray, code: int) -> str:
    """Name the other side of a test: images of one dtype and channel may lack some conditions,
    so "the other conditions" alone would overstate what a condition was compared with."""
    others = [ctx.cond_label(int(c)) for c in present if int(c) != code]
    if len(others) == 1:
        return f"condition {others[0]}"
    return f"the other {len(others)} conditions"


def _tests(ctx: Context, metric: str, sel: np.ndarray, values: np.ndarray) -> list[_Test]:
    f = ctx.frame
    codes = f.cond.codes[sel]
    present = np.unique(codes)
    if len(present) < 2:
        return []
    remap = np.searchsorted(present, codes)
    results = rank_sum_tests(values, remap, len(present))
    out: list[_Test] = []
    for k, res in enumerate(results):
        code = int(present[k])
        need = ctx.settings.get("condition-shift", "min_images", ctx.cond_label(code))
        if res is not None and res.n1 >= need and res.n2 >= need:
            out.append((metric, code, sel[remap == k], res, _compared_with(ctx, present, code)))
    return out


def _shift_finding(
    ctx: Context, metric: str, cond: str, sel: np.ndarray, res: RankSum, p: float, delta: float, others: str
) -> Finding:
    f = ctx.frame
    direction = "higher" if res.delta > 0 else "lower"
    text = Text(
        lambda r: f"condition {cond} has {direction} {metric} than {others} ({plural(res.n1, 'image')} vs {res.n2:,}; Cliff's δ {res.delta:+.2f}, Bonferroni p {p:.2g})",
        SHIFT_ACTION,
    )
    return finding(f, "condition-shift", "info", sel, text, value=res.delta, threshold=delta, condition=cond, scope="condition")
