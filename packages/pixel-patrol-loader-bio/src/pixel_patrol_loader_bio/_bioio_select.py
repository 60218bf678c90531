"""Choosing the bioio reader plugin for a file without bioio's plugin discovery.

``BioImage(path)`` without ``reader=`` enumerates every installed plugin's entry point and
tries them in turn on every call; for small files that costs more than decoding the pixels.
The extension names the format here, and for ``.tif``/``.tiff`` one cheap tifffile parse of
the IFDs tells OME-TIFF from plain TIFF. The choice is deterministic and documented.
"""

from __future__ import annotations

from dataclasses import dataclass

from pixel_patrol_loader_bio._paths import extension

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


def plugin_for(path: str, is_ome: bool | None) -> Plugin | None:
    """The plugin for ``path``; ``is_ome`` is the tifffile check (``None``: it failed).

    ``.lsm`` goes to bioio-tifffile (bioio-ome-tiff needs OME-XML). TIFFs whose first IFD
    carries OME-XML go to bioio-ome-tiff, other TIFFs to bioio-tifffile; when the check could
    not parse the file, the extension decides (``.ome.tif`` -> bioio-ome-tiff).
    """
    ext = extension(path)
    if ext in TIFF_FAMILY:
        if is_ome is None:
            is_ome = ext.startswith("ome.")
        return OME_TIFF if is_ome and ext != "lsm" else TIFFFILE
    return BY_EXTENSION.get(ext)
