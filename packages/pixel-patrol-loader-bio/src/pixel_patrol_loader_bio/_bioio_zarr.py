"""OME-Zarr stores for the ``bioio`` loader: read with zarr, axes named as bioio-ome-zarr does.

bioio-ome-zarr is zarr-python plus an xarray/dask layer and costs tens of milliseconds per
store on top of its imports. The ``zarr`` loader's store walk already finds the same images
(level 0 of each multiscale group, bioformats2raw series and plate fields included) with the
same metadata; only the axis names follow the plugin: the NGFF axis names upper-cased, or
bioio's guess from the rank for stores that name none (NGFF v0.1/v0.2). Plain arrays are not
OME-Zarr images and stay with the ``zarr`` loader, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

from pixel_patrol_base.errors import ImageReadError, MissingDependencyError
from pixel_patrol_loader_bio._bioio_axes import ome_zarr_plugin_axes
from pixel_patrol_loader_bio._budget import Budget
from pixel_patrol_loader_bio._errors import NeedsPlugin, require
from pixel_patrol_loader_bio._imagefile import PlannedImageFile
from pixel_patrol_loader_bio._ngff import ZarrImage
from pixel_patrol_loader_bio._zarrstore import is_dataset_dir

READER = "zarr"

NO_IMAGE = "no OME-Zarr multiscale image in the store (plain arrays: use the zarr loader)"


def plugin_axes(image: ZarrImage, shape: tuple[int, ...]) -> Sequence[str]:
    """bioio-ome-zarr's labels for ``image`` (see :func:`ome_zarr_plugin_axes`)."""
    return ome_zarr_plugin_axes(image.multiscale or {}, len(shape))


def multiscale_images(path: str, reader: str) -> list[ZarrImage]:
    """The OME-Zarr images of the store at ``path``; ``reader`` is named in errors."""
    from pixel_patrol_loader_bio._ngff import find_images

    if not is_dataset_dir(path):
        raise ImageReadError(path, "folder is not a Zarr store", reader)
    images = [im for im in find_images(path) if im.group is not None]
    if not images:
        raise ImageReadError(path, NO_IMAGE, reader)
    return images


def open_ome_zarr(path: str, budget: Budget | None = None) -> PlannedImageFile:
    """Open every multiscale image of an OME-Zarr store with zarr (no chunk is decoded).

    Raises
    ------
    NeedsPlugin
        When bioio-ome-zarr's axis naming is not reproduced (unnamed or repeated axes).
    ImageReadError
        When the folder is no Zarr store, holds no multiscale image or is invalid.
    MissingDependencyError
        When zarr is not installed.
    """
    require("zarr", "zarr", "to read OME-Zarr stores")
    from pixel_patrol_loader_bio.zarr_loader import ZarrImageFile

    try:
        return ZarrImageFile(path, multiscale_images(path, READER), plugin_axes, budget)
    except (NeedsPlugin, ImageReadError, MissingDependencyError):
        raise
    except Exception as exc:
        raise ImageReadError.from_exception(path, exc, READER) from exc
