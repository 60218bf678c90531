"""Distributions of every metric per group (box, density, extreme points) and group comparisons.

Box statistics follow Tukey: quartiles by linear interpolation (numpy's default), whiskers at
the most extreme values within 1.5 × IQR of the quartiles. The violin is a kernel density: a
fine histogram on bins shared by all groups (64 bins; log10 bins when the metric is positive and spans
more than three decades) smoothed with a Gaussian of the normal-reference bandwidth 1.06 σ n^-1/5, which costs the same
for a hundred or a million values. Metrics with one value for every image are listed, not drawn.
Channel facets use the per-channel rows (obs_level 1 with ``dim_c``) of multi-channel images.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pixel_patrol_base.html import stats
from pixel_patrol_base.html.frame import ReportFrame, numeric
from pixel_patrol_base.html.metrics import metric_columns

DENSITY_BINS = 64
ALL_POINTS = 400
"""Groups with at most this many values embed every point; larger ones only the extremes."""
EXTREMES = 60
MAX_CHANNELS = 8
MAX_COMPARED_GROUPS = 20


def _facets(frame: ReportFrame) -> list[tuple[str, np.ndarray]]:
    """('all', image rows) and one (channel, rows) facet per channel index present."""
    facets = [("all", frame.image_rows)]
    if not (frame.has("dim_c") and frame.has("obs_level")):
        return facets
    level = numeric(frame.table.column("obs_level"))
    dim_c = numeric(frame.table.column("dim_c"))
    chan = (level == 1) & np.isfinite(dim_c)
    for c in np.unique(dim_c[chan])[:MAX_CHANNELS]:
        facets.append((f"C{int(c)}", np.flatnonzero(chan & (dim_c == c))))
    return facets


def distributions(frame: ReportFrame, compare: bool = True) -> dict[str, Any]:
    """Per metric and facet: box statistics, density and points per group, and comparisons."""
    facets = _facets(frame)
    row_image = frame.row_image
    out: list[dict[str, Any]] = []
    constant: list[dict[str, Any]] = []
    for name in metric_columns(frame.table.schema):
        values = numeric(frame.table.column(name))
        entry: dict[str, Any] = {"metric": name, "description": frame.describe(name), "facets": []}
        finite = values[np.isfinite(values)]
        if len(finite) and finite.min() == finite.max():
            constant.append({"metric": name, "value": float(finite[0]), "description": frame.describe(name)})
            continue
        for label, rows in facets:
            v = values[rows]
            ok = np.isfinite(v)
            if not ok.any():
                continue
            facet = _facet(v[ok], frame.row_group[rows][ok], row_image[rows][ok], len(frame.groups), compare)
            facet["facet"] = label
            facet["missing"] = np.bincount(frame.row_group[rows][~ok], minlength=len(frame.groups)).tolist()
            entry["facets"].append(facet)
        if entry["facets"]:
            out.append(entry)
    return {"metrics": out, "constant": constant}


def _facet(v: np.ndarray, g: np.ndarray, img: np.ndarray, ngroups: int, compare: bool) -> dict[str, Any]:
    log = bool(v.min() > 0 and v.max() / v.min() > 1e3)
    space = np.log10(v) if log else v
    lo, hi = float(space.min()), float(space.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, DENSITY_BINS + 1)
    groups = []
    samples = []
    for gi in range(ngroups):
        sel = g == gi
        samples.append(v[sel])
        groups.append(_group(v[sel], space[sel], img[sel], edges))
    result: dict[str, Any] = {
        "log": log,
        "edges": (10**edges).tolist() if log else edges.tolist(),
        "groups": groups,
    }
    if compare:
        result["tests"] = compare_groups(samples)
    return result


def box(values: np.ndarray) -> dict[str, float]:
    """Tukey box statistics of finite ``values`` (non-empty)."""
    q1, med, q3 = (float(x) for x in np.quantile(values, [0.25, 0.5, 0.75]))
    iqr = q3 - q1
    inside = values[(values >= q1 - 1.5 * iqr) & (values <= q3 + 1.5 * iqr)]
    return {
        "q1": q1,
        "median": med,
        "q3": q3,
        "lowerfence": float(inside.min()),
        "upperfence": float(inside.max()),
        "mean": float(values.mean()),
        "sd": float(values.std()),
        "min": float(values.min()),
        "max": float(values.max()),
    }


def _group(v: np.ndarray, space: np.ndarray, img: np.ndarray, edges: np.ndarray) -> dict[str, Any] | None:
    if not len(v):
        return None
    out: dict[str, Any] = {"n": len(v), **box(v)}
    out["density"] = [round(float(x), 3) for x in smoothed_density(space, edges)]
    if len(v) <= ALL_POINTS:
        pick = np.arange(len(v))
    else:
        order = np.argsort(v, kind="stable")
        low = order[:EXTREMES][v[order[:EXTREMES]] < out["lowerfence"]]
        high = order[-EXTREMES:][v[order[-EXTREMES:]] > out["upperfence"]]
        pick = np.concatenate([low, high])
    out["points"] = [_short(x) for x in v[pick]]
    out["images"] = [int(x) for x in img[pick]]
    out["all_points"] = len(v) <= ALL_POINTS
    return out


def smoothed_density(space: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Histogram on ``edges`` smoothed with a Gaussian (bandwidth 1.06 σ n^-1/5), peak scaled to 1."""
    counts = np.histogram(space, bins=edges)[0].astype(np.float64)
    step = edges[1] - edges[0]
    sd = float(space.std())
    width = 1.06 * sd * len(space) ** -0.2 / step if sd > 0 else 1.0
    width = min(max(width, 0.75), len(counts) / 8)
    half = int(np.ceil(3 * width))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / width) ** 2)
    dens = np.convolve(counts, kernel, mode="same") if len(kernel) <= len(counts) else counts
    peak = dens.max()
    return dens / peak if peak > 0 else dens


def compare_groups(samples: list[np.ndarray]) -> list[list[float]]:
    """Pairwise Mann–Whitney U between groups with values, Bonferroni over the pairs tested.

    One ``[a, b, adjusted p, Cliff's delta]`` per pair (compact: a page may hold thousands).
    """
    present = [i for i, s in enumerate(samples) if len(s) >= 2]
    if len(present) < 2 or len(present) > MAX_COMPARED_GROUPS:
        return []
    pairs = [(a, b) for k, a in enumerate(present) for b in present[k + 1 :]]
    out = []
    for a, b in pairs:
        c = stats.mann_whitney(samples[a], samples[b])
        out.append([a, b, _short(stats.bonferroni(c.p, len(pairs)), 4), round(c.delta, 4)])
    return out


def _short(x: float, digits: int = 6) -> float:
    """``x`` to ``digits`` significant digits (what a plot or a hover can show)."""
    return float(f"{float(x):.{digits}g}")
