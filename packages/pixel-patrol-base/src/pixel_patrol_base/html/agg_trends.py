"""Metrics along Z, T, C and S: mean ± standard deviation against the slice index, per group.

Computed from the obs_level-1 rows (one axis block each), so a row of ``dim_z = 4`` summarises
slice 4 over the image's other axes. ``share`` is the fraction of the group's stacks that have
that slice (every stack has slice 0), which shows stacks of different depth.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pixel_patrol_base.html.frame import ReportFrame, numeric
from pixel_patrol_base.html.metrics import metric_columns

AXES = "ZTCS"
MAX_INDEX = 2000
"""Slices beyond this index are left out of the plot (the page says so)."""


def trends(frame: ReportFrame) -> dict[str, Any]:
    """Per axis with slice rows: indices, rows per group and index, and each metric's mean and sd."""
    if not frame.has("obs_level"):
        return {"axes": []}
    level = numeric(frame.table.column("obs_level"))
    metrics = metric_columns(frame.table.schema)
    out = []
    for axis in AXES:
        col = f"dim_{axis.lower()}"
        if not frame.has(col):
            continue
        idx = numeric(frame.table.column(col))
        rows = np.flatnonzero((level == 1) & np.isfinite(idx))
        if not len(rows):
            continue
        out.append(_axis(frame, axis, rows, idx[rows].astype(np.int64), metrics))
    return {"axes": out}


def _axis(frame: ReportFrame, axis: str, rows: np.ndarray, index: np.ndarray, metrics: list[str]) -> dict[str, Any]:
    cut = index <= MAX_INDEX
    rows, index = rows[cut], index[cut]
    uniq, pos = np.unique(index, return_inverse=True)
    ng, nk = len(frame.groups), len(uniq)
    g = frame.row_group[rows].astype(np.int64)
    cell = g * nk + pos
    count = np.bincount(cell, minlength=ng * nk).reshape(ng, nk)
    first = count[:, :1].astype(np.float64)
    share = np.divide(count, first, out=np.zeros((ng, nk)), where=first > 0)
    series = {}
    for name in metrics:
        v = numeric(frame.table.column(name))[rows]
        ok = np.isfinite(v)
        n = np.bincount(cell[ok], minlength=ng * nk)
        s1 = np.bincount(cell[ok], weights=v[ok], minlength=ng * nk)
        if not n.any():
            continue
        mean = np.divide(s1, n, out=np.full(ng * nk, np.nan), where=n > 0)
        dev = v[ok] - mean[cell[ok]]
        s2 = np.bincount(cell[ok], weights=dev * dev, minlength=ng * nk)
        sd = np.sqrt(np.divide(s2, n, out=np.full(ng * nk, np.nan), where=n > 0))
        series[name] = {
            "mean": _nan_list(mean.reshape(ng, nk)),
            "sd": _nan_list(sd.reshape(ng, nk)),
            "n": n.reshape(ng, nk).tolist(),
        }
    return {
        "axis": axis,
        "index": uniq.tolist(),
        "rows": count.tolist(),
        "share": share.tolist(),
        "truncated": bool((~cut).any()),
        "metrics": series,
        "descriptions": {m: frame.describe(m) for m in series},
    }


def _nan_list(a: np.ndarray) -> list[list[float | None]]:
    return [[None if not np.isfinite(x) else float(x) for x in row] for row in a]
