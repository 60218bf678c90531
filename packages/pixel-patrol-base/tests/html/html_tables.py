"""Small report-shaped Arrow tables for the HTML aggregation tests (no loader needed)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from pixel_patrol_base.project import ProjectMetadata

BINS = 256
META = ProjectMetadata(name="t")


def int_histogram(pixels: np.ndarray, dtype: str) -> tuple[float, float, list[int]]:
    """The report's integer edge rule: 8-bit one level per bin, else width ceil(range/256) from the min."""
    if np.dtype(dtype).itemsize == 1:
        lo, width = 0, 1
    else:
        lo = int(pixels.min())
        width = max(1, -(-(int(pixels.max()) - lo + 1) // BINS))
    counts = np.bincount((pixels.astype(np.int64) - lo) // width, minlength=BINS)
    return float(lo), float(lo + BINS * width), counts.tolist()


def float_histogram(pixels: np.ndarray) -> tuple[float, float, list[int], int]:
    """The report's float rule: 256 bins over the finite range; NaN counted apart."""
    finite = pixels[np.isfinite(pixels)]
    lo, hi = float(finite.min()), float(finite.max())
    counts = np.histogram(finite, bins=BINS, range=(lo, hi))[0]
    return lo, hi, counts.tolist(), int(np.isnan(pixels).sum())


def table(rows: list[dict[str, Any]], description: str = "a column") -> pa.Table:
    """A table with the report's column types for the keys used in ``rows``."""
    types = {
        "imported_path": pa.string(), "file_name": pa.string(), "file_extension": pa.string(), "path": pa.string(),
        "file_size": pa.int64(), "obs_level": pa.int8(), "child_id": pa.string(), "dtype": pa.string(),
        "dim_order": pa.string(), "error": pa.string(), "modification_date": pa.timestamp("us", tz="UTC"),
        "dim_z": pa.int64(), "dim_t": pa.int64(), "dim_c": pa.int64(), "dim_s": pa.int64(),
        "X_size": pa.int64(), "Y_size": pa.int64(), "Z_size": pa.int64(), "C_size": pa.int64(), "T_size": pa.int64(),
        "histogram_min": pa.float64(), "histogram_max": pa.float64(), "histogram_nan_count": pa.int64(),
        "histogram_counts": pa.list_(pa.int64(), BINS), "thumbnail": pa.binary(), "channel_names": pa.list_(pa.string()),
        "pixel_size_X": pa.float64(), "significant_bits": pa.int32(),
    }
    names = list(dict.fromkeys(k for r in rows for k in r))
    fields = [pa.field(n, types.get(n, pa.float64()), metadata={"description": f"{description} {n}"}) for n in names]
    schema = pa.schema(fields)
    return pa.Table.from_pylist([{n: r.get(n) for n in names} for r in rows], schema=schema)
