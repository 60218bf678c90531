"""``blank``: constant, all-NaN and signal-free images and slices.

Constant rows (std 0) and rows without a finite pixel carry no information at all: an error at
any level (a dead channel, an empty Z end written as zeros, a dropped T frame). A slice whose
contrast std/p99 is far below its stack's (modified z-score < −3.5 among the slices along Z or
along T, Iglewicz & Hoaglin 1993) holds only offset and noise: a warning.
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_base.findings.build import (
    Text,
    by_condition_and_scope,
    count_phrase,
    finding,
    uncovered,
)
from pixel_patrol_base.findings.context import Context
from pixel_patrol_base.findings.groups import along
from pixel_patrol_base.findings.model import Finding
from pixel_patrol_base.findings.stats import modz_and_median

ACTION = (
    "Check the acquisition (dead or unused channel, shutter, Z range beyond the sample, dropped "
    "frames) and remove or re-acquire these images or slices before analysis."
)


def blank(ctx: Context) -> list[Finding]:
    """Constant / no-finite rows (error) and signal-free slices within stacks (warning)."""
    f = ctx.frame
    std, finite, total = f.num("std_intensity"), f.num("finite_pixel_count"), f.num("num_pixels")
    ok = f.measured
    constant = ok & (std == 0) & (finite > 0)
    empty = ok & (finite == 0) & (total > 0)
    dead = np.flatnonzero(constant | empty)
    out = _group(ctx, uncovered(f, dead), "error", constant)
    faint, z = _signal_free(ctx)
    faint = faint[~np.isin(faint, dead)]
    faint = uncovered(f, faint, np.concatenate([dead, faint]))
    return out + _group(ctx, faint, "warning", constant, z)


def _signal_free(ctx: Context) -> tuple[np.ndarray, dict[int, float]]:
    """Slices whose std/p99 has a modified z-score below the limit along Z or T."""
    f = ctx.frame
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(f.p99 > 0, f.num("std_intensity") / f.p99, np.nan)
    found: dict[int, float] = {}
    for axis in ("z", "t"):
        g = along(f, axis)
        if not len(g.rows):
            continue
        r = ratio[g.rows]
        modz, med = modz_and_median(r, g.group, g.n_groups)
        with np.errstate(divide="ignore", invalid="ignore"):  # a median of 0: no slice is faint
            rel = r / med
        small = g.sizes() >= ctx.per_row("blank", "min_slices", g.rows)
        hit = small & (modz < ctx.per_row("blank", "modz", g.rows))
        hit &= rel < ctx.per_row("blank", "max_ratio", g.rows)
        for i, z in zip(g.rows[hit].tolist(), modz[hit].tolist(), strict=True):
            found[i] = min(z, found.get(i, z))
    return np.array(sorted(found), dtype=np.int64), found


def _group(
    ctx: Context, rows: np.ndarray, severity: str, constant: np.ndarray, modz: dict[int, float] | None = None
) -> list[Finding]:
    f = ctx.frame
    out = []
    for cond, group in by_condition_and_scope(f, rows):
        if modz is None:
            kinds = [("constant", group[constant[group]]), ("empty", group[~constant[group]])]
        else:
            kinds = [("faint", group[np.argsort([modz[int(i)] for i in group], kind="stable")])]
        for kind, part in kinds:
            if len(part):
                out.append(_one(ctx, cond, part, kind, severity, modz))
    return out


def _one(
    ctx: Context, cond: str, rows: np.ndarray, kind: str, severity: str, modz: dict[int, float] | None
) -> Finding:
    f = ctx.frame
    if kind == "constant":
        values = f.num("min_intensity")[rows]
        text = Text(lambda r: f"{count_phrase(f, r)} are constant (every pixel {_fmt(values[0])}{'' if len(np.unique(values)) == 1 else ', …'})", ACTION)
        return finding(f, "blank", severity, rows, text, value=0.0, threshold=0.0, evidence=values, condition=cond)  # type: ignore[arg-type]
    if kind == "empty":
        text = Text(lambda r: f"{count_phrase(f, r)} have no finite pixel (all NaN or ±Inf)", ACTION)
        return finding(f, "blank", severity, rows, text, value=0, threshold=0, evidence=[0] * len(rows), condition=cond)  # type: ignore[arg-type]
    assert modz is not None
    scores = [modz[int(i)] for i in rows]
    limit = ctx.settings.get("blank", "modz", cond)
    text = Text(
        lambda r: f"{count_phrase(f, r)} look signal-free: their std/p99 is far below the rest of their stack (modified z down to {scores[0]:.1f}, limit {limit})",
        ACTION,
    )
    return finding(f, "blank", severity, rows, text, value=scores[0], threshold=limit, evidence=scores, condition=cond)  # type: ignore[arg-type]


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.4g}"
