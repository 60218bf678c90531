"""Metadata consistency and image dimensions per group.

A property is *mixed* in a group when its images disagree (pixel sizes compared to four
significant digits), and *partly missing* when only some images state it. The page highlights
both, since either usually means files from another acquisition or export path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


def _codes(frame: ReportFrame, name: str, idx: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The field's distinct values (as text) and each image's code (-1 when missing)."""
    col = frame.images.column(name).take(pa.array(idx, pa.int64())).combine_chunks()
    t = col.type
    if pa.types.is_floating(t):
        v = np.asarray(pc.fill_null(col, np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)
        col = pa.array(_four_digits(v), pa.float64(), mask=~np.isfinite(v))
    elif name == "C_size":
        # Images without a C axis have one channel; the column is null for them.
        col = pc.fill_null(col, 1)
    elif pa.types.is_list(t):
        col = pa.array([None if v is None else lab for v, lab in zip(col.to_pylist(), labels(pa.chunked_array([col])), strict=True)], pa.string())
    enc = pc.dictionary_encode(col)
    codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return [_text(v) for v in enc.dictionary.to_pylist()], codes


def _four_digits(v: np.ndarray) -> np.ndarray:
    """``v`` rounded to four significant digits (pixel sizes that differ below that agree)."""
    out = v.copy()
    ok = np.isfinite(v) & (v != 0)
    exp = np.floor(np.log10(np.abs(v[ok])))
    scale = 10.0 ** (3 - exp)
    out[ok] = np.round(v[ok] * scale) / scale
    return out


def _text(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _cells(values: list[str], codes: np.ndarray, groups: np.ndarray, ngroups: int) -> list[dict[str, Any]]:
    nv = len(values)
    n = np.bincount(groups, minlength=ngroups)
    ok = codes >= 0
    table = np.bincount(groups[ok] * max(nv, 1) + codes[ok], minlength=ngroups * max(nv, 1)).reshape(ngroups, max(nv, 1))
    cells = []
    for gi in range(ngroups):
        row = table[gi]
        order = np.argsort(-row, kind="stable")
        top = [[values[k], int(row[k])] for k in order[:TOP_VALUES] if row[k] > 0]
        cells.append({"n": int(n[gi]), "present": int(row.sum()), "values": top, "distinct": int((row > 0).sum())})
    return cells


def metadata_table(frame: ReportFrame) -> dict[str, Any]:
    """Per field and group: how many images state it, its most common values, whether mixed."""
    fields = [f for f in META_FIELDS if frame.has(f)]
    idx = np.flatnonzero(_processed(frame))
    groups = frame.image_group[idx].astype(np.int64)
    rows = []
    for name in fields:
        values, codes = _codes(frame, name, idx)
        cells = _cells(values, codes, groups, len(frame.groups))
        overall = {v for c in cells for v, _ in c["values"]}
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
    idx = np.flatnonzero(_processed(frame))
    values, codes = _codes(frame, name, idx)
    ok = codes >= 0
    counts = np.zeros((len(values), len(frame.groups)))
    np.add.at(counts, (codes[ok], frame.image_group[idx][ok]), 1)
    order = np.argsort(values)
    return {"names": [values[k] for k in order], "counts": counts[order].tolist()}


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
