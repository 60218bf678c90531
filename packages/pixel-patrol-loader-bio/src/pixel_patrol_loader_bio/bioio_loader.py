"""The ``bioio`` loader: the formats of bioio's reader plugins, each file with one decoder.

Which library decodes what (the ``reader`` column names it):

- TIFF family (TIFF, BigTIFF, OME-TIFF, ImageJ, LSM) -> ``tifffile``
- PNG, JPEG, BMP -> ``pillow``
- OME-Zarr folders -> ``zarr`` (one image per multiscale group, so bioformats2raw series and
  plate fields work although bioio refuses their root)
- CZI, ND2, LIF -> the plugins ``bioio-czi``, ``bioio-nd2``, ``bioio-lif``

tifffile, Pillow and zarr-python are the decoders bioio-tifffile / bioio-ome-tiff,
bioio-imageio and bioio-ome-zarr use. Calling them directly skips the plugins' xarray and dask
layer, whose imports cost seconds per worker process, while the report stays the same: the
axes are named as each plugin names them (:mod:`pixel_patrol_loader_bio._bioio_axes`), the
metadata come from the ``tifffile`` and ``zarr`` loaders' code as before. The few variants
whose plugin layout is not reproduced (e.g. animated PNG, repeated axis names) are still read
by the plugin (``bioio-tifffile``, ``bioio-ome-tiff``, ``bioio-imageio``, ``bioio-ome-zarr``).
bioio and its plugins are imported only when a file needs them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import ClassVar

from pixel_patrol_base.contracts import Column, ImageFile
from pixel_patrol_base.discovery import path_extension as extension
from pixel_patrol_base.errors import ImageReadError
from pixel_patrol_loader_bio import _libraries
from pixel_patrol_loader_bio._bioio_select import BY_EXTENSION, IMAGEIO, SUPPORTED, TIFF_FAMILY
from pixel_patrol_loader_bio._budget import Budget, Budgeted
from pixel_patrol_loader_bio._columns import COLUMNS
from pixel_patrol_loader_bio._errors import NeedsPlugin
from pixel_patrol_loader_bio._zarrstore import is_dataset_dir


class BioioLoader(Budgeted):
    """Reads microscopy and common image formats the way bioio's reader plugins do.

    With a budget (``with_budget``), an image whose smallest decodable piece (TIFF strip or
    tile, Zarr chunk, a whole PNG/JPEG/BMP, a plugin's plane) exceeds it is refused.
    """

    NAME: ClassVar[str] = "bioio"
    SUPPORTED_EXTENSIONS: ClassVar[frozenset[str]] = SUPPORTED
    FOLDER_EXTENSIONS: ClassVar[frozenset[str]] = frozenset({"zarr", "ome.zarr"})
    COLUMNS: ClassVar[tuple[Column, ...]] = COLUMNS
    LIBRARIES: ClassVar[tuple[str, ...]] = _libraries.BIOIO

    @classmethod
    def is_dataset_dir(cls, path: str | os.PathLike[str]) -> bool:
        """True when ``path`` is a Zarr store root, whatever the folder is called."""
        return is_dataset_dir(path)

    @classmethod
    def missing_reader(cls, extension: str) -> str | None:
        """The bioio plugin that files with ``extension`` need but that is not installed.

        Only CZI, ND2 and LIF depend on their plugin; the other formats are decoded without
        one. Lets a run report such files with what to install, without opening them.
        """
        plugin = BY_EXTENSION.get(extension)
        if plugin is None or extension in IMAGEIO:
            return None
        import importlib.util

        return plugin.package if importlib.util.find_spec(plugin.module) is None else None

    def open(self, path: str) -> ImageFile:
        """Open ``path`` with the decoder chosen for it and read every image's header.

        Raises
        ------
        ImageReadError
            When no decoder handles the extension or the file cannot be read (the error
            names the library that failed).
        MissingDependencyError
            When the library or plugin for this format is not installed (the message names it).
        """
        path = str(path)
        if os.path.isdir(path):
            return _open_store(path, self.budget)
        ext = extension(path)
        if ext in TIFF_FAMILY:
            return _open_tiff(path, self.budget)
        if ext in IMAGEIO:
            return _open_pillow(path, self.budget)
        plugin = BY_EXTENSION.get(ext)
        if plugin is None:
            raise ImageReadError(path, f"no bioio reader is chosen for '.{ext}' files", "bioio")
        from pixel_patrol_loader_bio._bioio_plugin import open_with_plugin

        return open_with_plugin(path, plugin, budget=self.budget)


def _fast_or_plugin(fast: Callable[[], ImageFile], plugin: Callable[[], ImageFile]) -> ImageFile:
    """``fast()``, or ``plugin()`` when the fast path does not reproduce the plugin's layout.

    Unreadable files are not retried: their :class:`ImageReadError` from ``fast`` stands.
    """
    try:
        return fast()
    except NeedsPlugin:
        return plugin()


def _open_tiff(path: str, budget: Budget) -> ImageFile:
    from pixel_patrol_loader_bio import _bioio_plugin
    from pixel_patrol_loader_bio._bioio_tiff import open_tiff

    return _fast_or_plugin(
        lambda: open_tiff(path, budget), lambda: _bioio_plugin.open_tiff_with_plugin(path, budget)
    )


def _open_pillow(path: str, budget: Budget) -> ImageFile:
    from pixel_patrol_loader_bio import _bioio_plugin
    from pixel_patrol_loader_bio._pillow import open_pillow

    plugin = BY_EXTENSION[extension(path)]
    return _fast_or_plugin(
        lambda: open_pillow(path, budget),
        lambda: _bioio_plugin.open_with_plugin(path, plugin, budget=budget),
    )


def _open_store(path: str, budget: Budget) -> ImageFile:
    from pixel_patrol_loader_bio import _bioio_plugin
    from pixel_patrol_loader_bio._bioio_zarr import open_ome_zarr

    return _fast_or_plugin(
        lambda: open_ome_zarr(path, budget),
        lambda: _bioio_plugin.open_ome_zarr_with_plugin(path, budget),
    )


__all__ = ["BioioLoader"]
