"""Metadata columns shared by the three loaders.

One declaration per concept, so a report mixing TIFF, CZI and Zarr files has one
``pixel_size_X`` column with one type, whichever loader read each file. Types are declared,
never inferred from values.
"""

from __future__ import annotations

import pyarrow as pa

from pixel_patrol_base.contracts import Column

F64 = pa.float64()
STR = pa.string()
TIMESTAMP = pa.timestamp("us", tz="UTC")

COLUMNS: tuple[Column, ...] = (
    Column("reader", STR, "Reader that decoded the file, e.g. 'tifffile', 'zarr', 'bioio-czi'."),
    Column("pixel_size_X", F64, "Physical pixel width in pixel_size_unit (absolute value)."),
    Column("pixel_size_Y", F64, "Physical pixel height in pixel_size_unit (absolute value)."),
    Column("pixel_size_Z", F64, "Step between Z planes in pixel_size_unit (absolute value)."),
    Column(
        "pixel_size_unit",
        STR,
        "Unit of the pixel sizes: 'µm' when the file names a length unit, else its own text.",
    ),
    Column(
        "channel_names",
        pa.list_(STR),
        "Channel names stored in the file (generated placeholder ids are not reported).",
    ),
    Column(
        "acquisition_date",
        TIMESTAMP,
        "When the image was acquired per the file's metadata (times without zone taken as UTC).",
    ),
    Column("objective", STR, "Objective lens (model or magnification/NA text) from the metadata."),
    Column("numerical_aperture", F64, "Numerical aperture of the objective lens."),
    Column("exposure_time_s", F64, "Exposure time of the first plane, in seconds."),
    Column("instrument", STR, "Microscope or instrument (manufacturer and model) in the metadata."),
    Column(
        "significant_bits",
        pa.int32(),
        "Bits per sample that carry information (e.g. 12 for 12-bit camera data in uint16).",
    ),
)

NAMES = frozenset(c.name for c in COLUMNS)
"""Names a loader may put in ``ImageHeader.metadata``."""
