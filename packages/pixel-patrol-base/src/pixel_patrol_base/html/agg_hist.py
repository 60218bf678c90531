"""Intensity histograms per group, on one axis per dtype, from the report's exact counts.

Rows of images that share bin edges are summed as they are (exact). When the images of a dtype
have different edges (16-bit and float images get edges from their own value range), every
image's counts are moved onto one common axis by interpolating its cumulative counts at the
common edges: a source bin's count is spread evenly over the part of its range each target bin
covers. Source bins one level wide (8-bit data, narrow 16-bit ranges) stay exact; the page says
how many images were re-binned. NaN values are never in the counts; they are shown apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow.compute as pc

from pixel_patrol_base.html.frame import ReportFrame

BINS = 256


@dataclass(frozen=True)
class Family:
    """The images of one dtype with their counts moved onto the family's common edges."""

    dtype: str
    edges: np.ndarray
    integer: bool
    rows: np.ndarray
    """Image indices (obs_level-0 rows) in this family."""
    counts: np.ndarray
    """One row of 256 counts per image on ``edges``."""
    inexact: np.ndarray
    """Per image: its counts were spread (not summed exactly)."""
    nan: np.ndarray


def families(frame: ReportFrame) -> list[Family]:
    """Read every image's histogram once and put each dtype's images on one axis."""
    need = ("histogram_counts", "histogram_min", "histogram_max", "dtype")
    if not all(frame.has(c) for c in need):
        return []
    lo = frame.image_column("histogram_min")
    hi = frame.image_column("histogram_max")
    dtypes = np.array([d or "" for d in frame.images.column("dtype").to_pylist()], dtype=object)
    nan = np.nan_to_num(frame.image_column("histogram_nan_count"), nan=0.0) if frame.has("histogram_nan_count") else np.zeros(frame.n_images)
    out = []
    for dt in sorted({d for d in dtypes if d}):
        rows = np.flatnonzero((dtypes == dt) & np.isfinite(lo) & np.isfinite(hi))
        if len(rows):
            out.append(_family(frame, dt, rows, lo[rows], hi[rows], nan[rows]))
    return out


def histograms(frame: ReportFrame, fams: list[Family] | None = None) -> dict[str, Any]:
    """Per dtype: the common edges and, per group of ``frame``, counts, images, re-binned images, NaNs."""
    fams = families(frame) if fams is None else fams
    ng = len(frame.groups)
    out = []
    for f in fams:
        g = frame.image_group[f.rows].astype(np.int64)
        out.append({
            "dtype": f.dtype,
            "integer": f.integer,
            "edges": f.edges.tolist(),
            "counts": group_sums(f.counts, g, ng).tolist(),
            "images": np.bincount(g, minlength=ng).tolist(),
            "rebinned": np.bincount(g[f.inexact], minlength=ng).tolist(),
            "nan": np.bincount(g, weights=f.nan, minlength=ng).tolist(),
        })
    return {"families": out}


def group_sums(counts: np.ndarray, g: np.ndarray, ng: int) -> np.ndarray:
    """Row sums of ``counts`` per group id (one pass over the rows sorted by group)."""
    out = np.zeros((ng, counts.shape[1]))
    if not len(g):
        return out
    order = np.argsort(g, kind="stable")
    sg = g[order]
    starts = np.flatnonzero(np.r_[True, sg[1:] != sg[:-1]])
    out[sg[starts]] = np.add.reduceat(counts[order], starts, axis=0)
    return out


def _counts(frame: ReportFrame, rows: np.ndarray) -> np.ndarray:
    col = frame.image_heavy("histogram_counts", rows)
    flat = pc.fill_null(col.flatten(), 0).to_numpy(zero_copy_only=False)
    return np.array(flat, dtype=np.float64).reshape(len(rows), BINS)  # a writable copy: re-binned in place


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
    result: np.ndarray = out
    return result


CHUNK = 8192


def _family(frame: ReportFrame, dtype: str, rows: np.ndarray, a: np.ndarray, b: np.ndarray, nan: np.ndarray) -> Family:
    edges, integer = target_edges(dtype, a, b)
    same = (a == edges[0]) & (b == edges[-1])
    counts = np.zeros((len(rows), BINS))
    for start in range(0, len(rows), CHUNK):
        sl = slice(start, start + CHUNK)
        part = _counts(frame, rows[sl])
        keep = same[sl]
        if (~keep).any():
            part[~keep] = rebin(part[~keep], a[sl][~keep], b[sl][~keep], edges)
        counts[sl] = part
    inexact = ~same & ~_nested(a, b, edges, integer)
    return Family(dtype, edges, integer, rows, counts, inexact, nan)


def _nested(lo: np.ndarray, hi: np.ndarray, edges: np.ndarray, integer: bool) -> np.ndarray:
    """Which integer images have every source bin inside one target bin (re-binning exact)."""
    if not integer:
        return np.zeros(len(lo), dtype=bool)
    width = (hi - lo) / BINS
    step = edges[1] - edges[0]
    result: np.ndarray = (width >= 1) & (np.mod(step, width) == 0) & (np.mod(lo - edges[0], width) == 0)
    return result
