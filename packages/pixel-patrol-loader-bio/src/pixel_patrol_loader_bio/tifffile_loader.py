"""The ``tifffile`` loader: the TIFF family (TIFF, BigTIFF, OME-TIFF, ImageJ, LSM), lightweight.

Importing this module imports neither bioio nor xarray (nor tifffile: readers load lazily in
``open``), so a scan of plain TIFF folders pays only for tifffile itself.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from pixel_patrol_base.contracts import Column, ImageFile, ImageHeader
from pixel_patrol_base.errors import ImageReadError, MissingDependencyError
from pixel_patrol_loader_bio import _libraries
from pixel_patrol_loader_bio._budget import Budget, Budgeted
from pixel_patrol_loader_bio._columns import COLUMNS
from pixel_patrol_loader_bio._errors import require
from pixel_patrol_loader_bio._imagefile import Planned, PlannedImageFile, dtype_name
from pixel_patrol_loader_bio._meta import clean, unique_ids

READER = "tifffile"

TIFF_EXTENSIONS = frozenset(
    {"tif", "tiff", "ome.tif", "ome.tiff", "ome.tf2", "ome.tf8", "ome.btf", "tf2", "tf8", "btf",
     "lsm"}
)  # fmt: skip


class TifffileLoader(Budgeted):
    """Reads every series of a TIFF-family file with tifffile.

    One image per series (OME ``<Image>``, ImageJ hyperstack, LSM scan ...); pyramid levels
    other than 0 and reduced-resolution preview series are not images of their own. With a
    budget (``with_budget``), an image with a strip or tile larger than the budget is refused.
    """

    NAME: ClassVar[str] = "tifffile"
    SUPPORTED_EXTENSIONS: ClassVar[frozenset[str]] = TIFF_EXTENSIONS
    FOLDER_EXTENSIONS: ClassVar[frozenset[str]] = frozenset()
    COLUMNS: ClassVar[tuple[Column, ...]] = COLUMNS
    LIBRARIES: ClassVar[tuple[str, ...]] = _libraries.TIFF

    def open(self, path: str) -> ImageFile:
        """Open ``path`` and read the headers of its series (no pixels).

        Raises
        ------
        ImageReadError
            When tifffile cannot parse the file or a series has no Y/X axes.
        MissingDependencyError
            When tifffile is not installed.
        """
        tifffile = require("tifffile", "tifffile", "to read TIFF files")
        path = str(path)
        try:
            tf = tifffile.TiffFile(path)
        except Exception as exc:
            raise ImageReadError.from_exception(path, exc, READER) from exc
        try:
            return TiffImageFile(path, tf, self.budget)
        except (ImageReadError, MissingDependencyError):
            tf.close()
            raise
        except Exception as exc:
            tf.close()
            raise ImageReadError.from_exception(path, exc, READER) from exc


class TiffImageFile(PlannedImageFile):
    """An open TIFF file; the tifffile handle stays open until :meth:`close`."""

    def __init__(self, path: str, tf: Any, budget: Budget | None = None) -> None:
        from pixel_patrol_loader_bio._tiff import image_series, series_plan
        from pixel_patrol_loader_bio._tiffcheck import check_complete
        from pixel_patrol_loader_bio._tiffmeta import ome_images
        from pixel_patrol_loader_bio._tiffread import series_refusal

        self._tf = tf
        self._series = [tf.series[i] for i in image_series(tf)]
        if not self._series:
            raise ImageReadError(path, "no image data in the file", READER)
        ome = ome_images(tf)
        check_complete(tf, self._series, path, len(ome))
        ids = unique_ids(s.name for s in self._series) if len(self._series) > 1 else [None]
        planned = []
        for series, child_id in zip(self._series, ids, strict=True):
            plan = series_plan(series)
            meta = _metadata(tf, series, ome, plan.dim_order)
            header = ImageHeader(
                plan.dim_order, plan.shape, dtype_name(series.dtype), child_id, meta
            )
            refusal = series_refusal(series, budget or Budget())
            planned.append(Planned(header, plan, refusal))
        super().__init__(path, READER, planned)

    def _read_raw(self, index: int, raw: tuple[slice, ...] | None) -> np.ndarray:
        from pixel_patrol_loader_bio._tiffread import read_series

        return read_series(self._tf, self._series[index], raw)

    def _release(self) -> None:
        self._tf.close()


def _metadata(tf: Any, series: Any, ome: list[Any], dim_order: str) -> dict[str, Any]:
    from pixel_patrol_loader_bio._tiffmeta import match_ome, series_metadata

    match = match_ome(series, ome)
    return clean({**series_metadata(tf, series, match), "reader": READER}, dim_order)


__all__ = ["TifffileLoader"]
