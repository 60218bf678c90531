"""TIFF-family files for the ``bioio`` loader: decoded by tifffile, laid out as bioio does.

bioio-tifffile and bioio-ome-tiff decode with tifffile and wrap the result in dask and
xarray, whose imports cost seconds per worker process while a small TIFF decodes in well
under a millisecond. This module parses the file once with tifffile, reusing the ``tifffile``
loader's series selection, metadata and region reads, names the axes as the plugin would
(:mod:`pixel_patrol_loader_bio._bioio_axes`) and transposes the decoded array to the plugin's
axis order (a view, not a copy). A report therefore lists the same images, axes, values and
metadata as with the plugins.

Both plugins open files with ``is_mmstack=False`` (Micro-Manager stacks as page series), so
this module does too: image ``i`` is the same series here and in the plugin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pixel_patrol_base.contracts import ImageHeader
from pixel_patrol_base.discovery import path_extension as extension
from pixel_patrol_base.errors import ImageReadError, MissingDependencyError
from pixel_patrol_loader_bio._bioio_axes import ome_tiff_plugin_axes, tifffile_plugin_axes
from pixel_patrol_loader_bio._budget import Budget
from pixel_patrol_loader_bio._errors import NeedsPlugin, require
from pixel_patrol_loader_bio._imagefile import Planned, PlannedImageFile, dtype_name
from pixel_patrol_loader_bio._meta import clean, unique_ids
from pixel_patrol_loader_bio._omexml import OmeImage

READER = "tifffile"

TIFF_FLAGS: dict[str, Any] = {"is_mmstack": False}
"""``TiffFile`` options both bioio TIFF plugins use."""


@dataclass(slots=True)
class TiffImage:
    """One image the bioio TIFF plugins report for a file."""

    series: int
    """Index into ``TiffFile.series`` (the plugin's scene index)."""
    name: str
    """Name the child id is made from: the OME or series name, else the plugin's scene id."""
    metadata: dict[str, Any]
    ome: OmeImage | None = None
    """The OME image whose axes bioio-ome-tiff uses; ``None`` for bioio-tifffile files."""


@dataclass(slots=True)
class TiffFacts:
    """What one tifffile parse tells: which plugin bioio would use and what it would list."""

    is_ome: bool
    images: list[TiffImage]


def tiff_facts(tf: Any, path: str) -> TiffFacts:
    """The images of an open ``TiffFile`` as bioio lists them, with their metadata columns.

    OME-TIFF (OME-XML with at least one image; never ``.lsm``): one image per OME
    ``<Image>``, as bioio-ome-tiff has one scene per image. Otherwise one per tifffile series,
    without reduced-resolution previews.
    """
    from pixel_patrol_loader_bio._tiff import image_series
    from pixel_patrol_loader_bio._tiffmeta import ome_images, series_metadata

    series = list(tf.series)
    ome = ome_images(tf) if extension(path) != "lsm" else []
    if ome:
        return TiffFacts(
            True,
            [
                TiffImage(
                    i,
                    im.name or im.id or f"Image:{i}",
                    series_metadata(tf, series[i], im) if i < len(series) else dict(im.metadata),
                    im,
                )
                for i, im in enumerate(ome)
            ],
        )
    return TiffFacts(
        False,
        [
            TiffImage(i, series[i].name or f"Image:{i}", series_metadata(tf, series[i], None))
            for i in image_series(tf)
        ],
    )


def check_facts(tf: Any, facts: TiffFacts, path: str) -> None:
    """Refuse a file whose images lack planes it declares (see :mod:`._tiffcheck`)."""
    from pixel_patrol_loader_bio._tiffcheck import check_complete

    series = list(tf.series)
    used = [series[im.series] for im in facts.images if im.series < len(series)]
    check_complete(tf, used, path, len(facts.images) if facts.is_ome else 0)


@dataclass(frozen=True, slots=True)
class SeriesView:
    """A series as the plugin shows it: ``labels`` name the axes of ``stored.transpose(perm)``."""

    series: Any
    labels: list[str]
    perm: tuple[int, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(self.series.shape[i]) for i in self.perm)

    def stored_region(self, raw: tuple[slice, ...]) -> tuple[slice, ...]:
        """The box ``raw`` (in the plugin's axis order) in the file's storage order."""
        out = [slice(None)] * len(self.perm)
        for k, axis in enumerate(self.perm):
            out[axis] = raw[k]
        return tuple(out)


def series_view(series: list[Any], image: TiffImage) -> SeriesView:
    """How the plugin lays out ``image``; :class:`NeedsPlugin` where that is not reproduced."""
    if image.series >= len(series):
        raise NeedsPlugin(f"OME image {image.series} has no tifffile series")
    s = series[image.series]
    if image.ome is not None:
        labels, perm = ome_tiff_plugin_axes(s.axes, image.ome)
        return SeriesView(s, labels, perm)
    return SeriesView(s, tifffile_plugin_axes(s.axes), tuple(range(len(s.axes))))


def open_tiff(path: str, budget: Budget | None = None) -> PlannedImageFile:
    """Open a TIFF-family file as bioio's TIFF plugins would, decoding with tifffile.

    Raises
    ------
    NeedsPlugin
        When the plugin's layout of this file is not reproduced here.
    ImageReadError
        When tifffile cannot parse the file (named ``tifffile``).
    MissingDependencyError
        When tifffile is not installed.
    """
    tifffile = require("tifffile", "tifffile", "to read TIFF files")
    try:
        tf = tifffile.TiffFile(path, **TIFF_FLAGS)
    except Exception as exc:
        raise ImageReadError.from_exception(path, exc, READER) from exc
    try:
        facts = tiff_facts(tf, path)
        check_facts(tf, facts, path)
        return BioioTiffFile(path, tf, facts, budget or Budget())
    except (NeedsPlugin, ImageReadError, MissingDependencyError):
        tf.close()
        raise
    except Exception as exc:
        tf.close()
        raise ImageReadError.from_exception(path, exc, READER) from exc


class BioioTiffFile(PlannedImageFile):
    """An open TIFF whose images have the axes bioio's plugins give them."""

    def __init__(self, path: str, tf: Any, facts: TiffFacts, budget: Budget) -> None:
        from pixel_patrol_loader_bio._dims import plan_axes
        from pixel_patrol_loader_bio._tiffread import series_refusal

        if not facts.images:
            raise ImageReadError(path, "no image data in the file", READER)
        self._tf = tf
        series = list(tf.series)
        self._views = [series_view(series, im) for im in facts.images]
        multi = len(facts.images) > 1
        ids = unique_ids(im.name for im in facts.images) if multi else [None]
        planned = []
        for view, im, child_id in zip(self._views, facts.images, ids, strict=True):
            plan = plan_axes(view.labels, view.shape)
            meta = clean({**im.metadata, "reader": READER}, plan.dim_order)
            dtype = dtype_name(view.series.dtype)
            header = ImageHeader(plan.dim_order, plan.shape, dtype, child_id, meta)
            planned.append(Planned(header, plan, series_refusal(view.series, budget)))
        super().__init__(path, READER, planned)

    def _read_raw(self, index: int, raw: tuple[slice, ...] | None) -> np.ndarray:
        from pixel_patrol_loader_bio._tiffread import read_series

        view = self._views[index]
        stored = None if raw is None else view.stored_region(raw)
        return read_series(self._tf, view.series, stored).transpose(view.perm)

    def _release(self) -> None:
        self._tf.close()
