"""Metadata consistency and image dimensions per group.

A property is *mixed* in a group when its images disagree (pixel sizes compared to four
significant digits), and *partly missing* when only some images state it. The page highlights
both, since either usually means files from another acquisition or export path.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa

from pixel_patrol_base.html.frame import ReportFrame, labels

META_FIELDS = (
    "dtype",
    "dim_order",
    "significant_bits",
    "C_size",
    "channel_names",
    "pixel_size_X",
    "pixel_size_Y",
    "pixel_size_Z",
    "pixel_size_unit",
    "objective",
    "numerical_aperture",
    "exposure_time_s",
    "instrument",
    "reader",
    "file_extension",
)
TOP_VALUES = 6


def _cell(values: list[Any]) -> dict[str, Any]:
    present = [v for v in values if v is not None]
    counts = Counter(present).most_common()
    return {
        "n": len(values),
        "present": len(present),
        "values": [[str(v), c] for v, c in counts[:TOP_VALUES]],
        "distinct": len(counts),
    }


def _values(frame: ReportFrame, name: str, ok: np.ndarray) -> list[Any]:
    col = frame.images.column(name).take(pa.array(np.flatnonzero(ok)))
    t = col.type
    if name == "C_size":
        # Images without a C axis have one channel; the column is null for them.
        return [1 if v is None else v for v in col.to_pylist()]
    if pa.types.is_floating(t):
        return [None if v is None or v != v else float(f"{v:.4g}") for v in col.to_pylist()]
    if pa.types.is_list(t):
        return [None if v is None else lab for v, lab in zip(col.to_pylist(), labels(col), strict=True)]
    return col.to_pylist()


def metadata_table(frame: ReportFrame) -> dict[str, Any]:
    """Per field and group: how many images state it, its most common values, whether mixed."""
    fields = [f for f in META_FIELDS if frame.has(f)]
    processed = _processed(frame)
    groups = frame.image_group[processed]
    rows = []
    for name in fields:
        by_group: list[list[Any]] = [[] for _ in frame.groups]
        for v, gi in zip(_values(frame, name, processed), groups, strict=True):
            by_group[gi].append(v)
        cells = [_cell(vals) for vals in by_group]
        overall = {str(v) for c in cells for v, _ in c["values"]}
        rows.append({
            "field": name,
            "description": frame.describe(name),
            "cells": cells,
            "differs_between_groups": len(overall) > 1 and all(c["distinct"] <= 1 for c in cells),
        })
    return {"fields": rows}


def _processed(frame: ReportFrame) -> np.ndarray:
    """Image rows without an error (error rows carry no image metadata)."""
    if not frame.has("error"):
        return np.ones(frame.n_images, dtype=bool)
    return np.asarray(frame.images.column("error").is_null().to_numpy(zero_copy_only=False), dtype=bool)


def dtype_counts(frame: ReportFrame) -> dict[str, Any]:
    """Images per dtype and group (the stacked bar above the metadata table)."""
    if not frame.has("dtype"):
        return {"names": [], "counts": []}
    return _value_counts(frame, "dtype")


def _value_counts(frame: ReportFrame, name: str) -> dict[str, Any]:
    ok = _processed(frame)
    vals = frame.images.column(name).to_pylist()
    names = sorted({str(v) for v, k in zip(vals, ok, strict=True) if k and v is not None})
    pos = {v: i for i, v in enumerate(names)}
    counts = np.zeros((len(names), len(frame.groups)))
    for v, g, k in zip(vals, frame.image_group, ok, strict=True):
        if k and v is not None:
            counts[pos[str(v)], g] += 1
    return {"names": names, "counts": counts.tolist()}


def dimensions(frame: ReportFrame) -> dict[str, Any]:
    """X/Y size pairs with their image counts, and the Z, C, T, S size counts, per group."""
    out: dict[str, Any] = {"xy": _xy(frame), "axes": {}}
    for axis in "ZCTS":
        name = f"{axis}_size"
        if not frame.has(name):
            continue
        size = frame.image_column(name)
        ok = np.isfinite(size)
        if not ok.any():
            continue
        uniq, inv = np.unique(size[ok].astype(np.int64), return_inverse=True)
        counts = np.zeros((len(frame.groups), len(uniq)))
        np.add.at(counts, (frame.image_group[ok], inv), 1)
        out["axes"][axis] = {"sizes": uniq.tolist(), "counts": counts.tolist(), "description": frame.describe(name)}
    return out


def _xy(frame: ReportFrame) -> dict[str, Any]:
    if not (frame.has("X_size") and frame.has("Y_size")):
        return {"x": [], "y": [], "group": [], "count": []}
    x, y = frame.image_column("X_size"), frame.image_column("Y_size")
    ok = np.isfinite(x) & np.isfinite(y)
    keys = np.stack([frame.image_group[ok].astype(np.int64), x[ok].astype(np.int64), y[ok].astype(np.int64)], axis=1)
    if not len(keys):
        return {"x": [], "y": [], "group": [], "count": []}
    uniq, counts = np.unique(keys, axis=0, return_counts=True)
    return {"group": uniq[:, 0].tolist(), "x": uniq[:, 1].tolist(), "y": uniq[:, 2].tolist(), "count": counts.tolist()}
