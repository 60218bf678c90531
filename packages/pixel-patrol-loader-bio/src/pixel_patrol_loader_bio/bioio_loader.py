"""The ``bioio`` loader: every format a bioio reader plugin reads, one plugin chosen per file.

TIFF family -> bioio-ome-tiff or bioio-tifffile, CZI -> bioio-czi, ND2 -> bioio-nd2,
LIF -> bioio-lif, PNG/JPEG/BMP -> bioio-imageio, OME-Zarr folders -> bioio-ome-zarr (one reader
per multiscale image, so bioformats2raw series and plate fields work although bioio refuses
their root). bioio and its plugins are imported inside :meth:`BioioLoader.open` only.

Metadata: TIFF and Zarr files get the same column values as from the ``tifffile`` and ``zarr``
loaders (one parser each, and bioio's TIFF reader turns unit-less resolution tags into µm);
CZI, ND2 and LIF metadata come from the bioio plugin.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from pixel_patrol_base.contracts import Column, ImageFile, ImageHeader
from pixel_patrol_base.errors import ImageReadError, MissingDependencyError
from pixel_patrol_loader_bio._bioio_select import (
    OME_TIFF,
    OME_ZARR,
    SUPPORTED,
    TIFF_FAMILY,
    Plugin,
    plugin_for,
)
from pixel_patrol_loader_bio._columns import COLUMNS
from pixel_patrol_loader_bio._errors import read_error, require
from pixel_patrol_loader_bio._imagefile import BaseImageFile, Planned, dtype_name
from pixel_patrol_loader_bio._meta import clean, unique_ids
from pixel_patrol_loader_bio._paths import extension
from pixel_patrol_loader_bio._zarrstore import is_dataset_dir


@dataclass(slots=True)
class Source:
    """Where one image comes from: a bioio reader and a scene, plus metadata known already."""

    reader: Any
    scene: int
    name: str | None = None
    metadata: dict[str, Any] | None = None
    mosaic: bool = field(default=False)


class BioioLoader:
    """Reads microscopy and common image formats through bioio reader plugins."""

    NAME: ClassVar[str] = "bioio"
    SUPPORTED_EXTENSIONS: ClassVar[frozenset[str]] = SUPPORTED
    FOLDER_EXTENSIONS: ClassVar[frozenset[str]] = frozenset({"zarr", "ome.zarr"})
    COLUMNS: ClassVar[tuple[Column, ...]] = COLUMNS

    @classmethod
    def is_dataset_dir(cls, path: str | os.PathLike[str]) -> bool:
        """True when ``path`` is a Zarr store root, whatever the folder is called."""
        return is_dataset_dir(path)

    def open(self, path: str) -> ImageFile:
        """Open ``path`` with the plugin chosen for it and read every image's header.

        Raises
        ------
        ImageReadError
            When no plugin handles the extension or the plugin cannot read the file.
        MissingDependencyError
            When the plugin for this format is not installed (the message names it).
        """
        path = str(path)
        if os.path.isdir(path):
            return _open_zarr(path)
        ext = extension(path)
        tiff = _tiff_facts(path) if ext in TIFF_FAMILY else None
        plugin = plugin_for(path, tiff.is_ome if tiff and tiff.error is None else None)
        if plugin is None:
            raise ImageReadError(
                path, f"no bioio reader plugin is chosen for '.{ext}' files", "bioio"
            )
        module = require(plugin.module, plugin.package, f"to read .{ext} files")
        if tiff is not None and tiff.error is not None:
            raise read_error(path, tiff.error, plugin.package)
        try:
            reader = module.Reader(path)
            sources = _scene_sources(reader, plugin, tiff)
            return BioioImageFile(path, plugin.package, sources)
        except (ImageReadError, MissingDependencyError):
            raise
        except Exception as exc:
            raise read_error(path, exc, plugin.package) from exc


@dataclass(slots=True)
class TiffFacts:
    """What one tifffile parse tells before bioio is involved."""

    is_ome: bool = False
    scenes: list[int] = field(default_factory=list)
    names: list[str | None] = field(default_factory=list)
    metadata: list[dict[str, Any]] = field(default_factory=list)
    error: Exception | None = None


def _tiff_facts(path: str) -> TiffFacts:
    """OME or not, which series are images (previews skipped), and their metadata columns."""
    import tifffile

    from pixel_patrol_loader_bio._tiff import image_series
    from pixel_patrol_loader_bio._tiffmeta import series_metadata
    from pixel_patrol_loader_bio.tifffile_loader import _match_ome, _ome_images

    try:
        with tifffile.TiffFile(path) as tf:
            facts = TiffFacts(is_ome=bool(tf.is_ome) and extension(path) != "lsm")
            ome = _ome_images(tf) if facts.is_ome else []
            if facts.is_ome and ome:
                facts.scenes = list(range(len(ome)))
                facts.names = [im.name for im in ome]
                by_index = list(tf.series)
                facts.metadata = [
                    series_metadata(tf, by_index[i], im) if i < len(by_index) else dict(im.metadata)
                    for i, im in enumerate(ome)
                ]
            else:
                facts.is_ome = False
                facts.scenes = image_series(tf)
                facts.names = [tf.series[i].name or None for i in facts.scenes]
                facts.metadata = [
                    series_metadata(tf, tf.series[i], _match_ome(tf.series[i], ome))
                    for i in facts.scenes
                ]
            return facts
    except Exception as exc:  # noqa: BLE001 - reported by open() under the plugin's name
        return TiffFacts(error=exc)


def _scene_sources(reader: Any, plugin: Plugin, tiff: TiffFacts | None) -> list[Source]:
    if tiff is None:
        return [Source(reader, i) for i in range(len(reader.scenes))]
    n = len(reader.scenes)
    sources = []
    for k, scene in enumerate(tiff.scenes):
        if scene < n:
            sources.append(Source(reader, scene, tiff.names[k], tiff.metadata[k]))
    if not sources:
        raise ImageReadError(reader_path(reader), "no image series", plugin.package)
    return sources


def reader_path(reader: Any) -> str:
    return str(getattr(reader, "_path", "?"))


def _open_zarr(path: str) -> ImageFile:
    """One bioio-ome-zarr reader per multiscale image of the store."""
    if not is_dataset_dir(path):
        raise ImageReadError(path, "folder is not a Zarr store", OME_ZARR.package)
    module = require(OME_ZARR.module, OME_ZARR.package, "to read OME-Zarr stores")
    from pixel_patrol_loader_bio._ngff import find_images

    try:
        images = [im for im in find_images(path) if im.group is not None]
        if not images:
            raise ImageReadError(
                path,
                "no OME-Zarr multiscale image in the store (plain arrays: use the zarr loader)",
                OME_ZARR.package,
            )
        sources = []
        for im in images:
            reader = module.Reader(os.path.join(path, im.group) if im.group else path)
            sources.append(Source(reader, 0, im.name, im.metadata))
        return BioioImageFile(path, OME_ZARR.package, sources)
    except (ImageReadError, MissingDependencyError):
        raise
    except Exception as exc:
        raise read_error(path, exc, OME_ZARR.package) from exc


def _scene_array(reader: Any, mosaic: bool) -> Any:
    """The scene's lazy xarray: mosaic tiles (M) stitched as BioImage does by default."""
    return reader.mosaic_xarray_dask_data if mosaic else reader.xarray_dask_data


class BioioImageFile(BaseImageFile):
    """An opened file: bioio readers (which open the file per access) and their scenes."""

    def __init__(self, path: str, package: str, sources: list[Source]) -> None:
        from pixel_patrol_loader_bio._bioio_meta import reader_metadata
        from pixel_patrol_loader_bio._dims import plan_axes

        self._sources = sources
        multi = len(sources) > 1
        names = [s.name or str(s.reader.scenes[s.scene]) for s in sources]
        ids = unique_ids(names) if multi else [None]
        planned = []
        for src, child_id in zip(sources, ids, strict=True):
            reader = self._select(src)
            src.mosaic = "M" in reader.dims.order
            xr = _scene_array(reader, src.mosaic)
            plan = plan_axes([str(d) for d in xr.dims], xr.shape)
            meta = src.metadata if src.metadata is not None else reader_metadata(reader, package)
            meta = clean({**meta, "reader": package}, plan.dim_order)
            header = ImageHeader(plan.dim_order, plan.shape, dtype_name(xr.dtype), child_id, meta)
            planned.append(Planned(header, plan))
        super().__init__(path, package, planned)

    @staticmethod
    def _select(src: Source) -> Any:
        if src.reader.current_scene_index != src.scene:
            src.reader.set_scene(src.scene)
        return src.reader

    def _read_raw(self, index: int, raw: tuple[slice, ...] | None) -> np.ndarray:
        src = self._sources[index]
        reader = self._select(src)
        if raw is None:
            return np.asarray(reader.mosaic_data if src.mosaic else reader.data)
        lazy = _scene_array(reader, src.mosaic).data
        return np.asarray(lazy[raw].compute(scheduler="synchronous"))

    def _release(self) -> None:
        for src in self._sources:
            close = getattr(src.reader, "close", None)
            if callable(close):
                close()
        self._sources = []


__all__ = ["OME_TIFF", "BioioLoader"]
