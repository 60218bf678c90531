"""Summary and file facts per group: counts, bytes, extensions, sizes, dates, folder tree.

Counts are kept apart as the page shows them: *files* (distinct ``imported_path``), *images*
(obs_level-0 rows, one per image or sub-image), *planes* (Z × T × C per image) and *bytes*
(each file's size once, however many images it holds).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pixel_patrol_base.html.frame import ReportFrame

TREE_MAX_NODES = 400
TREE_MAX_DEPTH = 6


def _first_file_rows(frame: ReportFrame) -> np.ndarray:
    """Index (into the image rows) of the first image of every distinct file."""
    if not frame.n_images or not frame.has("imported_path"):
        return np.arange(frame.n_images)
    enc = pc.dictionary_encode(frame.images.column("imported_path").combine_chunks())
    codes = enc.indices.to_numpy(zero_copy_only=False)
    _, first = np.unique(codes, return_index=True)
    return np.sort(first)


def _per_group(frame: ReportFrame, idx: np.ndarray, weights: np.ndarray | None = None) -> list[int] | list[float]:
    g = frame.image_group[idx]
    out = np.bincount(g, weights=weights, minlength=len(frame.groups))
    return [int(x) for x in out] if weights is None else [float(x) for x in out]


def summary(frame: ReportFrame) -> dict[str, Any]:
    """Files, images, planes, rows, bytes, errors and NaN values per group."""
    n = frame.n_images
    all_idx = np.arange(n)
    files = _first_file_rows(frame)
    size = frame.image_column("file_size") if frame.has("file_size") else np.zeros(n)
    planes = np.ones(n)
    for axis in "ZTC":
        if frame.has(f"{axis}_size"):
            planes = planes * np.nan_to_num(frame.image_column(f"{axis}_size"), nan=1.0)
    err = _has_error(frame)
    nan = np.nan_to_num(frame.image_column("histogram_nan_count")) if frame.has("histogram_nan_count") else np.zeros(n)
    rows = np.bincount(frame.row_group, minlength=len(frame.groups)) if len(frame.row_group) else np.zeros(len(frame.groups))
    return {
        "files": _per_group(frame, files),
        "images": _per_group(frame, all_idx),
        "planes": _per_group(frame, all_idx, planes),
        "rows": [int(x) for x in rows],
        "bytes": _per_group(frame, files, np.nan_to_num(size[files])),
        "errors": _per_group(frame, np.flatnonzero(err)),
        "nan_values": _per_group(frame, all_idx, nan),
        "nan_images": _per_group(frame, np.flatnonzero(nan > 0)),
    }


def _has_error(frame: ReportFrame) -> np.ndarray:
    if not frame.has("error"):
        return np.zeros(frame.n_images, dtype=bool)
    return np.asarray(pc.is_valid(frame.images.column("error")).to_numpy(zero_copy_only=False), dtype=bool)


def extensions(frame: ReportFrame) -> dict[str, Any]:
    """Files and bytes per extension and group."""
    if not frame.has("file_extension"):
        return {"names": [], "files": [], "bytes": []}
    files = _first_file_rows(frame)
    ext = pc.fill_null(frame.images.column("file_extension").take(pa.array(files)).combine_chunks(), "(none)")
    enc = pc.dictionary_encode(ext)
    names = [str(v) for v in enc.dictionary.to_pylist()]
    code = enc.indices.to_numpy(zero_copy_only=False)
    size = np.nan_to_num(frame.image_column("file_size")[files]) if frame.has("file_size") else np.zeros(len(files))
    count = np.zeros((len(names), len(frame.groups)))
    nbytes = np.zeros_like(count)
    g = frame.image_group[files]
    np.add.at(count, (code, g), 1)
    np.add.at(nbytes, (code, g), size)
    order = np.argsort(names)
    return {"names": [names[i] for i in order], "files": count[order].tolist(), "bytes": nbytes[order].tolist()}


def size_histogram(frame: ReportFrame, bins: int = 30) -> dict[str, Any]:
    """File sizes on log10 bins shared by all groups (one count per file)."""
    if not frame.has("file_size"):
        return {"edges": [], "counts": []}
    files = _first_file_rows(frame)
    size = frame.image_column("file_size")[files]
    ok = np.isfinite(size) & (size > 0)
    if not ok.any():
        return {"edges": [], "counts": []}
    lo, hi = np.log10(size[ok].min()), np.log10(size[ok].max())
    hi = hi if hi > lo else lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    counts = []
    g = frame.image_group[files][ok]
    for gi in range(len(frame.groups)):
        counts.append(np.histogram(np.log10(size[ok][g == gi]), bins=edges)[0].tolist())
    return {"edges": (10**edges).tolist(), "counts": counts}


def timeline(frame: ReportFrame) -> dict[str, Any]:
    """Files per day (or per month for spans over two years) of their modification date."""
    if not frame.has("modification_date"):
        return {"unit": "day", "bins": [], "counts": []}
    files = _first_file_rows(frame)
    secs = frame.image_column("modification_date")[files]
    ok = np.isfinite(secs)
    if not ok.any():
        return {"unit": "day", "bins": [], "counts": []}
    days = (secs[ok] // 86400).astype(np.int64).astype("datetime64[D]")
    span = int((days.max() - days.min()).astype(np.int64))
    unit = "M" if span > 730 else "D"
    keys = days.astype(f"datetime64[{unit}]")
    uniq, inv = np.unique(keys, return_inverse=True)
    g = frame.image_group[files][ok]
    counts = np.zeros((len(frame.groups), len(uniq)))
    np.add.at(counts, (g, inv), 1)
    return {"unit": "month" if unit == "M" else "day", "bins": [str(u) for u in uniq], "counts": counts.tolist()}


def folder_tree(frame: ReportFrame) -> dict[str, Any]:
    """Folders of the files (relative to their common folder) with file counts and bytes per group.

    Deep or wide trees are cut at :data:`TREE_MAX_DEPTH` levels and :data:`TREE_MAX_NODES`
    nodes; files below a cut count in the nearest kept folder.
    """
    if not frame.has("imported_path") or not frame.n_images:
        return {"ids": [], "labels": [], "parents": [], "files": [], "bytes": [], "root": ""}
    files = _first_file_rows(frame)
    paths = pc.fill_null(frame.images.column("imported_path").take(pa.array(files)).combine_chunks(), "")
    folders = pc.replace_substring(paths, "\\", "/")
    folders = pc.replace_substring_regex(folders, "/[^/]*$", "")
    enc = pc.dictionary_encode(folders)
    names = [str(v) for v in enc.dictionary.to_pylist()]
    code = enc.indices.to_numpy(zero_copy_only=False)
    size = np.nan_to_num(frame.image_column("file_size")[files]) if frame.has("file_size") else np.zeros(len(files))
    ng = len(frame.groups)
    per = np.zeros((len(names), 2, ng))
    g = frame.image_group[files]
    np.add.at(per, (code, 0, g), 1)
    np.add.at(per, (code, 1, g), size)
    parts = [tuple(p for p in n.split("/") if p) for n in names]
    common = _common_prefix(parts)
    counts: dict[tuple[str, ...], np.ndarray] = defaultdict(lambda: np.zeros((2, ng)))
    for k, full in enumerate(parts):
        rel = full[len(common):][:TREE_MAX_DEPTH]
        for d in range(len(rel) + 1):
            counts[rel[:d]] += per[k]
    keep = sorted(counts, key=lambda n: (len(n), -counts[n][0].sum()))[:TREE_MAX_NODES]
    root = "/".join(common)
    return {
        "root": ("/" + root) if names and names[0].startswith("/") else root,
        "ids": ["/".join(n) or "." for n in keep],
        "labels": [n[-1] if n else (common[-1] if common else ".") for n in keep],
        "parents": ["" if not n else ("/".join(n[:-1]) or ".") for n in keep],
        "files": [counts[n][0].tolist() for n in keep],
        "bytes": [counts[n][1].tolist() for n in keep],
    }


def _common_prefix(parts: list[tuple[str, ...]]) -> tuple[str, ...]:
    if not parts:
        return ()
    first = parts[0]
    n = min(len(p) for p in parts)
    for i in range(n):
        if any(p[i] != first[i] for p in parts):
            return first[:i]
    return first[:n]

