"""The bioio reader plugins the ``bioio`` loader uses, chosen by extension.

``BioImage(path)`` without ``reader=`` enumerates every installed plugin's entry point and
tries them in turn on every call; for small files that costs more than decoding the pixels.
The extension names the format here. TIFF, PNG/JPEG/BMP and OME-Zarr are decoded without
their plugins (see :mod:`pixel_patrol_loader_bio.bioio_loader`); the plugins below serve CZI,
ND2 and LIF, and the rare variants those fast paths leave to the plugin.
"""

from __future__ import annotations

from dataclasses import dataclass

TIFF_FAMILY = frozenset({"tif", "tiff", "ome.tif", "ome.tiff", "lsm", "btf", "tf8", "tf2"})
IMAGEIO = frozenset({"png", "jpg", "jpeg", "bmp"})


@dataclass(frozen=True, slots=True)
class Plugin:
    """A bioio reader plugin: import name and the pip package that provides it."""

    module: str
    package: str


OME_TIFF = Plugin("bioio_ome_tiff", "bioio-ome-tiff")
TIFFFILE = Plugin("bioio_tifffile", "bioio-tifffile")
OME_ZARR = Plugin("bioio_ome_zarr", "bioio-ome-zarr")
BY_EXTENSION = {
    "czi": Plugin("bioio_czi", "bioio-czi"),
    "nd2": Plugin("bioio_nd2", "bioio-nd2"),
    "lif": Plugin("bioio_lif", "bioio-lif"),
    **{ext: Plugin("bioio_imageio", "bioio-imageio") for ext in IMAGEIO},
}

SUPPORTED = frozenset(TIFF_FAMILY | BY_EXTENSION.keys())
"""File extensions the ``bioio`` loader opens."""
