"""Reading a file through a bioio reader plugin: CZI, ND2, LIF and the rare other variants.

The ``bioio`` loader decodes TIFF, PNG/JPEG/BMP and OME-Zarr itself; this module is what it
uses for everything else, and for files whose plugin layout it does not reproduce
(:class:`~pixel_patrol_loader_bio._errors.NeedsPlugin`). bioio and its plugins are imported
here, on first use only.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pixel_patrol_base.contracts import ImageFile, ImageHeader
from pixel_patrol_base.discovery import path_extension as extension
from pixel_patrol_base.errors import ImageReadError, MissingDependencyError
from pixel_patrol_loader_bio._bioio_select import OME_TIFF, OME_ZARR, TIFFFILE, Plugin
from pixel_patrol_loader_bio._bioio_tiff import TIFF_FLAGS, TiffFacts, check_facts, tiff_facts
from pixel_patrol_loader_bio._budget import Budget
from pixel_patrol_loader_bio._errors import require
from pixel_patrol_loader_bio._imagefile import Planned, PlannedImageFile, dtype_name
from pixel_patrol_loader_bio._meta import clean, unique_ids


@dataclass(slots=True)
class Source:
    """Where one image comes from: a bioio reader and a scene, plus metadata known already."""

    reader: Any
    scene: int
    name: str | None = None
    metadata: dict[str, Any] | None = None
    mosaic: bool = field(default=False)


def open_with_plugin(
    path: str, plugin: Plugin, facts: TiffFacts | None = None, budget: Budget | None = None
) -> ImageFile:
    """Open ``path`` with ``plugin``; ``facts`` (TIFF only) choose scenes, names and metadata.

    With ``budget``, an image whose plugin decodes pieces (its dask chunks, usually a plane or
    a Z stack) larger than the budget is refused.

    Raises
    ------
    ImageReadError
        When the plugin cannot read the file (the plugin's package is named).
    MissingDependencyError
        When the plugin is not installed.
    """
    module = require(plugin.module, plugin.package, f"to read .{extension(path)} files")
    try:
        reader = module.Reader(path)
        sources = _scene_sources(reader, plugin, facts)
        return BioioImageFile(path, plugin.package, sources, budget or Budget())
    except (ImageReadError, MissingDependencyError):
        raise
    except Exception as exc:
        raise ImageReadError.from_exception(path, exc, plugin.package) from exc


def open_tiff_with_plugin(path: str, budget: Budget | None = None) -> ImageFile:
    """A TIFF through bioio-ome-tiff (OME-XML with images) or bioio-tifffile (all others)."""
    import tifffile

    try:
        with tifffile.TiffFile(path, **TIFF_FLAGS) as tf:
            facts = tiff_facts(tf, path)
            check_facts(tf, facts, path)
    except ImageReadError:
        raise
    except Exception as exc:
        raise ImageReadError.from_exception(path, exc, "tifffile") from exc
    return open_with_plugin(path, OME_TIFF if facts.is_ome else TIFFFILE, facts, budget)


def open_ome_zarr_with_plugin(path: str, budget: Budget | None = None) -> ImageFile:
    """One bioio-ome-zarr reader per multiscale image, so bioformats2raw series and plate
    fields work although bioio refuses their root."""
    from pixel_patrol_loader_bio._bioio_zarr import multiscale_images

    module = require(OME_ZARR.module, OME_ZARR.package, "to read OME-Zarr stores")
    try:
        images = multiscale_images(path, OME_ZARR.package)
        sources = []
        for im in images:
            reader = module.Reader(os.path.join(path, im.group) if im.group else path)
            sources.append(Source(reader, 0, im.name, im.metadata))
        return BioioImageFile(path, OME_ZARR.package, sources, budget or Budget())
    except (ImageReadError, MissingDependencyError):
        raise
    except Exception as exc:
        raise ImageReadError.from_exception(path, exc, OME_ZARR.package) from exc


def _scene_sources(reader: Any, plugin: Plugin, facts: TiffFacts | None) -> list[Source]:
    if facts is None:
        return [Source(reader, i) for i in range(len(reader.scenes))]
    n = len(reader.scenes)
    sources = [
        Source(reader, im.series, im.name, im.metadata) for im in facts.images if im.series < n
    ]
    if not sources:
        raise ImageReadError(str(getattr(reader, "_path", "?")), "no image series", plugin.package)
    return sources


def _chunk_refusal(xr: Any, package: str, budget: Budget) -> str | None:
    """Refuse a scene whose plugin decodes pieces larger than ``budget`` (its dask chunks)."""
    chunks = getattr(xr.data, "chunks", None)
    if budget.limit is None or not chunks:
        return None
    largest = [max(c) if c else 0 for c in chunks]
    nbytes = math.prod(largest) * np.dtype(xr.dtype).itemsize
    axes = "".join(str(d) for d, n in zip(xr.dims, largest, strict=True) if n > 1) or "single"
    piece = f"one {axes} block of this image, which {package} decodes at once,"
    return budget.refusal(piece, nbytes, "is {size}")


def _scene_array(reader: Any, mosaic: bool) -> Any:
    """The scene's lazy xarray: mosaic tiles (M) stitched as BioImage does by default."""
    return reader.mosaic_xarray_dask_data if mosaic else reader.xarray_dask_data


class BioioImageFile(PlannedImageFile):
    """An opened file: bioio readers (which open the file per access) and their scenes."""

    def __init__(self, path: str, package: str, sources: list[Source], budget: Budget) -> None:
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
            planned.append(Planned(header, plan, _chunk_refusal(xr, package, budget)))
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
