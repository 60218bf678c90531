"""Columns that do not belong to a plugin: file-system facts, row structure, image geometry.

Together with the loader's and processors' ``COLUMNS`` these make the report schema, which is
fixed before the first file is read.
"""

from __future__ import annotations

import pyarrow as pa

from pixel_patrol_base.contracts import AXES, ROW_AXES, Agg, Column

STR = pa.string()
I64 = pa.int64()

FILE_COLUMNS: tuple[Column, ...] = (
    Column("imported_path", STR, "Path of the source file (relative to the base directory with --omit-base-dir)."),
    Column("obs_level", pa.int8(), "Observation level: 0 = whole image, 1 = one block of one axis, 2+ = combinations of axis blocks."),
    Column("file_name", STR, "File (or folder dataset) name including its extension."),
    Column("file_extension", STR, "Lower-case extension without the dot; known compound extensions kept whole (ome.tif, ome.zarr)."),
    Column("file_size", I64, "Size on disk in bytes (for folder datasets: the sum of the files inside)."),
    Column("size_readable", STR, "file_size for humans, in powers of 1000 (e.g. '12.3 MB')."),
    Column("path", STR, "Condition label: the -p folder the file was found under, relative to the base directory ('.' without -p)."),
    Column("modification_date", pa.timestamp("us", tz="UTC"), "Last modification time of the file (UTC)."),
)

DIM_COLUMNS: tuple[Column, ...] = tuple(
    Column(f"dim_{a.lower()}", I64, f"Start index along {a} of the block this row describes; null when the row spans the whole {a} axis.")
    for a in ROW_AXES
)
"""Block-start columns for the non-plane axes, always present."""


def plane_dim_columns(axes: str) -> tuple[Column, ...]:
    """``dim_y``/``dim_x`` columns, present only when the user tiles the plane with --slice-size."""
    return tuple(
        Column(f"dim_{a.lower()}", I64, f"Start index along {a} of the block this row describes; null when the row spans the whole {a} axis.")
        for a in axes
    )


CHILD_COLUMN = Column("child_id", STR, "Identifier of the sub-image inside a container file (scene or series name, else its index); null for single-image files.")

ERROR_COLUMNS: tuple[Column, ...] = (
    Column("error", STR, "Why this file or sub-image could not be processed (one line); null when it was processed."),
    Column("error_stage", STR, "Where the failure happened: discover, header, load or process."),
)

IMAGE_COLUMNS: tuple[Column, ...] = (
    Column("dim_order", STR, "Axis letters of the image in storage order (T, C, Z, Y, X, S = RGB samples); axes of extent 1 other than Y and X are dropped."),
    Column("dtype", STR, "NumPy name of the pixel data type."),
    Column("ndim", pa.int16(), "Number of axes in dim_order."),
    Column("n_images", pa.int32(), "Number of images in the file (sub-images of a container)."),
    *(
        Column(f"{a}_size", I64, f"Extent along {a}: the full image at obs_level 0, the block size on axes this row is split by.")
        for a in AXES
    ),
    Column("num_pixels", I64, "Number of values the row covers (RGB samples counted separately).", Agg.SUM),
)
