"""Sharpness rules from ``laplacian_variance``: ``focus`` (Z and T profiles) and ``blurry``.

The variance of the Laplacian rises with in-focus detail (Pertuz et al. 2013 compare it with
other focus measures). Along Z, the sharpest slice should lie inside the stack: a peak at the
first or last slice means the focal plane of the sample was not covered. Along T, a frame far
below the series' median sharpness lost focus (drift, a failed autofocus). Between images of a
condition, sharpness varies by factors (content, density), so ``blurry`` compares
log10(laplacian_variance) with Iglewicz & Hoaglin's modified z-score.
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
from pixel_patrol_base.findings.frame import Frame
from pixel_patrol_base.findings.groups import BIT, Grouped, along, channel_rows, compare_groups
from pixel_patrol_base.findings.model import Finding
from pixel_patrol_base.findings.stats import grouped_median, modz_and_median

FOCUS_ACTION = (
    "Extend or re-centre the Z range on the sample (or fix the autofocus) and re-acquire; "
    "measurements on these stacks miss the in-focus plane."
)
DRIFT_ACTION = "Check autofocus and stage drift; exclude or re-acquire the frames that lost focus."
BLUR_ACTION = "Inspect these images (focus, motion, empty field of view) and exclude or re-acquire them."
LAP = "laplacian_variance"


def focus(ctx: Context) -> list[Finding]:
    """Best focus at a Z end (warning) and sharpness collapse along T (warning)."""
    return _edges(ctx) + _collapse(ctx)


def _edges(ctx: Context) -> list[Finding]:
    f = ctx.frame
    profile = _profile(f, "z")
    if profile is None:
        return []
    g, lap, med = profile
    order = np.lexsort((-np.nan_to_num(lap, nan=-np.inf), g.group))
    first = order[np.r_[True, g.group[order][1:] != g.group[order][:-1]]]
    best = first[np.isfinite(lap[first])]
    size = np.bincount(g.group, minlength=g.n_groups)
    last = np.zeros(g.n_groups, dtype=np.int64)
    np.maximum.at(last, g.group, g.position)
    grp = g.group[best]
    at_end = (g.position[best] == 0) | (g.position[best] == last[grp])
    ratio = lap[best] / np.where(med[grp] > 0, med[grp], np.nan)
    rows = g.rows[best]
    hit = (
        at_end
        & (size[grp] >= ctx.per_row("focus", "min_slices", rows))
        & (ratio >= ctx.per_row("focus", "peak_ratio", rows))
    )
    out = []
    for cond, group, vals in ranked_by_condition(f, rows[hit], ratio[hit], rank=np.negative):
        n_stacks = len(np.unique(f.image[group]))
        text = Text(
            lambda r, n=n_stacks: f"best focus is at the first or last Z slice in {plural(n, 'stack')} ({count_phrase(f, r)}): the focal plane lies outside the Z range",
            FOCUS_ACTION,
        )
        limit = ctx.settings.get("focus", "peak_ratio", cond)
        out.append(finding(f, "focus", "warning", group, text, value=vals[0], threshold=limit, evidence=vals, condition=cond))
    return out


def _collapse(ctx: Context) -> list[Finding]:
    f = ctx.frame
    profile = _profile(f, "t")
    if profile is None:
        return []
    g, lap, med = profile
    rel = lap / np.where(med[g.group] > 0, med[g.group], np.nan)
    hit = (
        (g.sizes() >= ctx.per_row("focus", "min_frames", g.rows))
        & (rel < ctx.per_row("focus", "collapse_ratio", g.rows))
    )
    out = []
    for cond, group, vals in ranked_by_condition(f, g.rows[hit], rel[hit]):
        limit = ctx.settings.get("focus", "collapse_ratio", cond)
        text = Text(
            lambda r, v=vals: f"sharpness collapses along T: {count_phrase(f, r)} fall to {min(v):.0%} of their series' median laplacian_variance",
            DRIFT_ACTION,
        )
        out.append(finding(f, "focus", "warning", group, text, value=float(vals.min()), threshold=limit, evidence=vals, condition=cond))
    return out


def _profile(f: Frame, axis: str) -> tuple[Grouped, np.ndarray, np.ndarray] | None:
    """The slice rows of every stack along ``axis`` (per channel where it has several), their
    ``laplacian_variance`` and each stack's median of it; None without such rows."""
    g = along(f, axis, (BIT[axis], BIT[axis] | BIT["c"]))
    if not len(g.rows):
        return None
    lap = f.num(LAP)[g.rows]
    ok = np.isfinite(lap)
    return g, lap, grouped_median(lap[ok], g.group[ok], g.n_groups)


def blurry(ctx: Context) -> list[Finding]:
    """Images (per channel) far less sharp than their condition's (warning)."""
    f = ctx.frame
    rows, channel = channel_rows(f)
    lap = f.num(LAP)[rows]
    keep = np.isfinite(lap) & (lap > 0)
    rows, channel = rows[keep], channel[keep]
    group, n_groups = compare_groups(f, rows, channel)
    if not n_groups:
        return []
    lap = f.num(LAP)[rows]
    z, log_med = modz_and_median(np.log10(lap), group, n_groups)
    ratio = lap / 10.0**log_med  # the median commutes with the monotone log
    size = np.bincount(group, minlength=n_groups)[group]
    hit = (
        (size >= ctx.per_row("blurry", "min_images", rows))
        & (z < ctx.per_row("blurry", "modz", rows))
        & (ratio < ctx.per_row("blurry", "max_ratio", rows))
    )
    out = []
    for cond, grp, vals in ranked_by_condition(f, rows[hit], z[hit], rank=lambda v: v):
        limit = ctx.settings.get("blurry", "modz", cond)
        text = Text(
            lambda r, v=vals, lim=limit: f"{count_phrase(f, r)} are much less sharp than the rest of their condition (modified z of log laplacian_variance down to {v[0]:.1f}, limit {lim})",
            BLUR_ACTION,
        )
        out.append(finding(f, "blurry", "warning", grp, text, value=vals[0], threshold=limit, evidence=vals, condition=cond))
    return out
