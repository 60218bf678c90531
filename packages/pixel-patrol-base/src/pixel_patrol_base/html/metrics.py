"""Which report columns are statistics and quality metrics (shown as distributions and trends)."""

from __future__ import annotations

import pyarrow as pa

STRUCTURAL = {
    "obs_level",
    "ndim",
    "n_images",
    "num_pixels",
    "file_size",
    "significant_bits",
    "numerical_aperture",
    "exposure_time_s",
    "histogram_min",
    "histogram_max",
    "thumbnail_norm_min",
    "thumbnail_norm_max",
}
STRUCTURAL_PREFIXES = ("dim_", "pixel_size_")
STRUCTURAL_SUFFIXES = ("_size",)


def metric_columns(schema: pa.Schema) -> list[str]:
    """Numeric columns that measure pixels (statistics and quality metrics), in report order."""
    out = []
    for f in schema:
        t = f.type
        if not (pa.types.is_integer(t) or pa.types.is_floating(t)):
            continue
        name = f.name
        if name in STRUCTURAL or name.startswith(STRUCTURAL_PREFIXES) or name.endswith(STRUCTURAL_SUFFIXES):
            continue
        out.append(name)
    return out
