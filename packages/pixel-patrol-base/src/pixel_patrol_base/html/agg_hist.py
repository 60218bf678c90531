"""Intensity histograms per group, on one axis per dtype, from the report's exact counts.

Rows of images that share bin edges are summed as they are (exact). When the images of a dtype
have different edges (16-bit and float images get edges from their own value range), every
image's counts are moved onto one common axis by interpolating its cumulative counts at the
common edges: a source bin's count is spread evenly over the part of its range each target bin
covers. Source bins one level wide (8-bit data, narrow 16-bit ranges) stay exact; the page says
how many images were re-binned. NaN values are never in the counts; they are shown apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow.compute as pc

from pixel_patrol_base.html.frame import ReportFrame

BINS = 256


def histograms(frame: ReportFrame) -> dict[str, Any]:
    """One entry per dtype: shared edges and, per group, counts, images, re-binned images, NaNs."""
    need = ("histogram_counts", "histogram_min", "histogram_max", "dtype")
    if not all(frame.has(c) for c in need):
        return {"families": []}
    lo = frame.image_column("histogram_min")
    hi = frame.image_column("histogram_max")
    dtypes = np.array([d or "" for d in frame.images.column("dtype").to_pylist()], dtype=object)
    nan = np.nan_to_num(frame.image_column("histogram_nan_count"), nan=0.0) if frame.has("histogram_nan_count") else np.zeros(frame.n_images)
    families = []
    for dt in sorted({d for d in dtypes if d}):
        rows = np.flatnonzero((dtypes == dt) & np.isfinite(lo) & np.isfinite(hi))
        if len(rows):
            families.append(_family(frame, dt, rows, lo, hi, nan))
    return {"families": families}


def _counts(frame: ReportFrame, rows: np.ndarray) -> np.ndarray:
    col = frame.image_heavy("histogram_counts", rows)
    flat = pc.fill_null(col.flatten(), 0).to_numpy(zero_copy_only=False)
    return np.asarray(flat, dtype=np.float64).reshape(len(rows), BINS)


def target_edges(dtype: str, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, bool]:
    """Common edges for a dtype: integer-width bins over the union range, or linspace for floats."""
    a, b = float(lo.min()), float(hi.max())
    integer = np.dtype(dtype).kind in "iub"
    if integer:
        width = max(1, int(np.ceil((b - a) / BINS)))
        return a + width * np.arange(BINS + 1, dtype=np.float64), True
    if b <= a:
        b = a + 1.0
    return np.linspace(a, b, BINS + 1), False


def rebin(counts: np.ndarray, lo: np.ndarray, hi: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Move counts on ``linspace(lo[i], hi[i], 257)`` (one row per image) onto ``edges``.

    Each row's cumulative counts are interpolated linearly at the target edges, which preserves
    its total and is exact when every source bin lies inside one target bin; otherwise a bin's
    count is shared in proportion to the overlap. Returns one row of target counts per input row.
    """
    nb = counts.shape[1]
    cum = np.concatenate([np.zeros((len(counts), 1)), np.cumsum(counts, axis=1)], axis=1)
    span = np.where(hi > lo, hi - lo, 1.0)
    pos = (edges[None, :] - lo[:, None]) / span[:, None] * nb
    pos = np.clip(pos, 0.0, float(nb))
    i = np.minimum(np.floor(pos).astype(np.int64), nb - 1)
    frac = pos - i
    rows = np.arange(len(counts))[:, None]
    at = cum[rows, i] + frac * (cum[rows, i + 1] - cum[rows, i])
    out = np.diff(at, axis=1)
    out[:, 0] += at[:, 0]
    out[:, -1] += cum[:, -1] - at[:, -1]
    return out


CHUNK = 8192


def _family(frame: ReportFrame, dtype: str, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray, nan: np.ndarray) -> dict[str, Any]:
    edges, integer = target_edges(dtype, lo[rows], hi[rows])
    ngroups = len(frame.groups)
    g = frame.image_group[rows].astype(np.int64)
    a, b = lo[rows], hi[rows]
    same = (a == edges[0]) & (b == edges[-1])
    total = np.zeros((ngroups, BINS))
    moved = np.zeros(ngroups, dtype=np.int64)
    for start in range(0, len(rows), CHUNK):
        sl = slice(start, start + CHUNK)
        counts = _counts(frame, rows[sl])
        keep = same[sl]
        if (~keep).any():
            counts[~keep] = rebin(counts[~keep], a[sl][~keep], b[sl][~keep], edges)
        for gi in np.unique(g[sl]):
            total[gi] += counts[g[sl] == gi].sum(axis=0)
    inexact = ~same & ~_nested(a, b, edges, integer)
    moved += np.bincount(g[inexact], minlength=ngroups)
    images = np.bincount(g, minlength=ngroups)
    return {
        "dtype": dtype,
        "integer": integer,
        "edges": edges.tolist(),
        "counts": total.tolist(),
        "images": images.tolist(),
        "rebinned": moved.tolist(),
        "nan": np.bincount(g, weights=nan[rows], minlength=ngroups).tolist(),
    }


def _nested(lo: np.ndarray, hi: np.ndarray, edges: np.ndarray, integer: bool) -> np.ndarray:
    """Which integer images have every source bin inside one target bin (re-binning exact)."""
    if not integer:
        return np.zeros(len(lo), dtype=bool)
    width = (hi - lo) / BINS
    step = edges[1] - edges[0]
    return (width >= 1) & (np.mod(step, width) == 0) & (np.mod(lo - edges[0], width) == 0)
