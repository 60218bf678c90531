"""Reference computations and data generators for the engine tests.

The references are written independently of the engine: they cut a row's pixels out of the
image with plain slicing and compute each statistic with numpy (or plain Python ints for
integer histograms), following the documented rules.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np

from pixel_patrol_base.contracts import ImageHeader
from pixel_patrol_base.engine import (
    ChunkResult,
    analyse_chunk,
    finish_image,
    finite_range,
    merge_ranges,
)
from pixel_patrol_base.processors import PixelHash, RasterBasic, RasterHistogram, Thumbnail

PROCESSORS = [RasterBasic(), RasterHistogram(), Thumbnail(), PixelHash()]
DIM_ORDERS = ["YX", "CYX", "ZYX", "TZCYX", "YXS"]
DTYPES = ["uint8", "uint16", "int16", "float32", "float64", "int32", "bool", "int64", "uint64"]
"""The issue's four types plus float64, wider integers (64-bit beyond 2**53) and bool."""


def make_image(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Random pixels: full-range 8-bit, narrow or wide 16-bit, floats with NaN/±Inf sprinkled."""
    if dtype == "uint8":
        return rng.integers(0, 256, shape).astype(np.uint8)
    if dtype == "bool":
        return rng.random(shape) < 0.3
    if dtype in ("int64", "uint64"):
        return _wide_ints(rng, shape, dtype)
    if dtype in ("uint16", "int16", "int32"):
        info = np.iinfo(dtype)
        lo = int(rng.integers(info.min, info.max))
        span = int(rng.choice([3, 200, 5000, 70000, 2**31]))
        hi = min(info.max, lo + span)
        return rng.integers(lo, hi + 1, shape).astype(dtype)
    a = (rng.normal(size=shape) * 10.0 ** rng.integers(-2, 4) + rng.normal() * 50).astype(dtype)
    mask = rng.random(shape)
    a[mask < 0.05] = np.nan
    a[(mask >= 0.05) & (mask < 0.08)] = np.inf
    a[(mask >= 0.08) & (mask < 0.1)] = -np.inf
    return a


def _wide_ints(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """64-bit values near the type's top, a few apart: float64 cannot tell them apart."""
    info = np.iinfo(dtype)
    top = int(info.max) - int(rng.integers(0, 8))
    steps = rng.integers(0, 4, shape)
    return (np.full(shape, top, dtype=dtype) - steps.astype(dtype)).astype(dtype)


def row_box(rows: Mapping[str, list[Any]], i: int, dim_order: str) -> tuple[slice, ...]:
    """The pixels of row ``i``: fixed axes cut at dim_* for *_size values, others whole."""
    box = []
    for axis in dim_order:
        start = rows.get(f"dim_{axis.lower()}", [None] * (i + 1))[i]
        if start is None:
            box.append(slice(None))
        else:
            box.append(slice(start, start + rows[f"{axis}_size"][i]))
    return tuple(box)


def expected_basic(px: np.ndarray) -> dict[str, Any]:
    """raster-basic over the finite values of ``px`` (None when there are none)."""
    finite = (
        px[np.isfinite(px)].astype(np.float64) if px.dtype.kind == "f" else px.astype(np.float64)
    )
    if finite.size == 0:
        return {"min": None, "max": None, "mean": None, "std": None, "count": 0, "at_max": 0, "at_min": 0}
    exact = px[np.isfinite(px)] if px.dtype.kind == "f" else px
    return {
        "at_max": int(np.count_nonzero(exact == exact.max())),
        "at_min": int(np.count_nonzero(exact == exact.min())),
        "min": float(finite.min()),
        "max": float(finite.max()),
        "mean": float(finite.mean()),
        "std": float(finite.std()),
        "count": int(finite.size),
    }


def expected_histogram(px: np.ndarray, whole: np.ndarray) -> tuple[Any, Any, int, list[int]]:
    """(min, max, nan_count, counts) with the edges the documented rule gives for ``whole``."""
    dt = whole.dtype
    if dt.kind in "iub":
        if dt.itemsize == 1:
            lo, width = (-128 if dt.kind == "i" else 0), 1
        else:
            lo = int(whole.min())
            width = max(1, -(-(int(whole.max()) - lo + 1) // 256))  # exact integer ceil
        counts = [0] * 256
        for v in px.ravel().tolist():
            counts[(int(v) - lo) // width] += 1
        return float(lo), float(lo + 256 * width), 0, counts
    nan = int(np.isnan(px).sum())
    rng = finite_range(whole)
    flat = px[~np.isnan(px)].astype(np.float64)
    if rng is None:
        return None, None, nan, _inf_counts(flat)
    lo, hi = rng
    finite = flat[np.isfinite(flat)]
    if lo == hi:
        counts = np.zeros(256, dtype=np.int64)
        counts[0] = finite.size
    else:
        counts = np.histogram(finite, bins=256, range=(lo, hi))[0].astype(np.int64)
    counts += np.array(_inf_counts(flat))
    return lo, hi, nan, counts.tolist()


def _inf_counts(flat: np.ndarray) -> list[int]:
    counts = [0] * 256
    counts[0] = int(np.isneginf(flat).sum())
    counts[255] = int(np.isposinf(flat).sum())
    return counts


def grid_tiling(rng: np.random.Generator, shape: tuple[int, ...]) -> list[tuple[slice, ...]]:
    """A random grid of boxes that tiles ``shape`` (arbitrary cut points on every axis)."""
    per_axis = []
    for n in shape:
        k = int(rng.integers(0, min(n, 4)))
        cuts = sorted(rng.choice(np.arange(1, n), size=k, replace=False).tolist()) if k else []
        edges = [0, *cuts, n]
        per_axis.append([slice(a, b) for a, b in itertools.pairwise(edges)])
    boxes = list(itertools.product(*per_axis))
    order = rng.permutation(len(boxes))
    return [boxes[i] for i in order]


def run_tiled(
    image: np.ndarray,
    header: ImageHeader,
    slice_size: Mapping[str, int],
    boxes: list[tuple[slice, ...]],
    processors: list[Any] | None = None,
) -> dict[str, list[Any]]:
    """The pipeline's chunked path: range pre-pass per chunk, analyse each chunk, finish."""
    procs = PROCESSORS if processors is None else processors
    value_range = merge_ranges(finite_range(image[b]) for b in boxes)
    chunks: list[ChunkResult] = [
        analyse_chunk(np.ascontiguousarray(image[b]), b, header, slice_size, procs, value_range)
        for b in boxes
    ]
    return finish_image(chunks, header, slice_size, procs, value_range)


def plain(rows: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
    """Rows with numpy row values (histograms) turned into lists, for == comparisons."""
    return {
        k: [v.tolist() if isinstance(v, np.ndarray) else v for v in vals]
        for k, vals in rows.items()
    }
