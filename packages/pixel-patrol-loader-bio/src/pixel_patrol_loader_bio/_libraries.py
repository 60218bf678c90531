"""The libraries whose versions shape each loader's rows (recorded as the loaders' provenance).

A new version of any of them may decode a file differently (a fixed TIFF tag, another axis
order, a different plugin default), so ``--incremental`` and ``--resume`` reuse no rows when
one of them changed. Libraries that only move data around (xarray, dask, fsspec) are left out.
"""

from __future__ import annotations

TIFF = ("tifffile", "imagecodecs", "zarr", "numcodecs", "numpy")
"""tifffile decodes, imagecodecs holds its codecs, zarr reads regions of tiled pages."""

ZARR = ("zarr", "numcodecs", "imagecodecs", "numpy")

BIOIO = (
    *TIFF,
    "pillow",
    "bioio",
    "bioio-base",
    "bioio-tifffile",
    "bioio-ome-tiff",
    "ome-types",
    "bioio-imageio",
    "imageio",
    "bioio-ome-zarr",
    "bioio-czi",
    "pylibczirw",
    "aicspylibczi",
    "bioio-nd2",
    "nd2",
    "bioio-lif",
    "liffile",
)
"""Every decoder the ``bioio`` loader may hand a file to, and the plugins that choose axes."""
