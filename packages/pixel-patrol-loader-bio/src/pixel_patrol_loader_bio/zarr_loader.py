"""The ``zarr`` loader: Zarr v2/v3 arrays and OME-Zarr (NGFF v0.1-v0.5) stores.

A store is a folder; it is one dataset whatever its name (``FOLDER_EXTENSIONS`` lets discovery
claim ``.zarr`` folders, :meth:`ZarrLoader.is_dataset_dir` any other folder that is a store).
Regions are read through zarr, so only the chunks that intersect a region are decoded, each
checked against its codec header and the array's chunk size first (:mod:`._zarrguard`): a
chunk cut short or claiming another size is an error naming it, never other pixels.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
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
from pixel_patrol_loader_bio._ngff import ZarrImage
from pixel_patrol_loader_bio._zarrstore import is_dataset_dir

READER = "zarr"


class ZarrLoader(Budgeted):
    """Reads every image of a Zarr store with zarr-python (level 0 of each multiscale).

    With a budget (``with_budget``), an image whose chunks are larger than it is refused, and
    reads decode only as many chunks side by side as fit in it.
    """

    NAME: ClassVar[str] = "zarr"
    SUPPORTED_EXTENSIONS: ClassVar[frozenset[str]] = frozenset()
    FOLDER_EXTENSIONS: ClassVar[frozenset[str]] = frozenset({"zarr", "ome.zarr"})
    COLUMNS: ClassVar[tuple[Column, ...]] = COLUMNS
    LIBRARIES: ClassVar[tuple[str, ...]] = _libraries.ZARR

    @classmethod
    def is_dataset_dir(cls, path: str | os.PathLike[str]) -> bool:
        """True when ``path`` is a Zarr store root (has .zattrs, .zgroup, .zarray or zarr.json)."""
        return is_dataset_dir(path)

    def open(self, path: str) -> ImageFile:
        """Find the store's images and read their array headers (no chunks are decoded).

        Raises
        ------
        ImageReadError
            When ``path`` is not a Zarr store, holds no arrays, or its metadata is invalid.
        MissingDependencyError
            When zarr is not installed.
        """
        require("zarr", "zarr", "to read Zarr stores")
        path = str(path)
        if not is_dataset_dir(path):
            raise ImageReadError(
                path, "not a Zarr store (no .zattrs, .zgroup, .zarray or zarr.json)", READER
            )
        try:
            from pixel_patrol_loader_bio._ngff import find_images

            found = find_images(path)
            if not found:
                raise ImageReadError(path, "the Zarr store holds no arrays", READER)
            return ZarrImageFile(path, found, budget=self.budget)
        except (ImageReadError, MissingDependencyError):
            raise
        except Exception as exc:
            raise ImageReadError.from_exception(path, exc, READER) from exc


def default_axes(shape: tuple[int, ...]) -> list[str]:
    """Axis labels for an array that names none: the last two are Y, X.

    A trailing axis of 3 or 4 after a larger plane is taken as RGB(A) samples, as image
    libraries store colour; leading axes are left unknown for the shared normaliser.
    """
    if len(shape) >= 3 and shape[-1] in (3, 4) and min(shape[-3:-1]) > 4:
        return ["?"] * (len(shape) - 3) + ["y", "x", "s"]
    return ["?"] * (len(shape) - 2) + ["y", "x"]


def zarr_axes(image: ZarrImage, shape: tuple[int, ...]) -> Sequence[str]:
    """Axis labels of an image: the store's names, else :func:`default_axes`."""
    return image.axes or default_axes(shape)


def _chunk_nbytes(arr: Any) -> int:
    """Bytes one chunk of ``arr`` decodes to (the inner chunk of a sharded array)."""
    result: int = math.prod(int(n) for n in arr.chunks) * np.dtype(arr.dtype).itemsize
    return result


def _chunk_refusal(arr: Any, budget: Budget) -> str | None:
    return budget.refusal("a chunk of this image", _chunk_nbytes(arr))


AxesOf = Callable[[ZarrImage, tuple[int, ...]], Sequence[str]]
"""Names the axes of a found image from its level-0 array shape."""


class ZarrImageFile(PlannedImageFile):
    """An opened store: one zarr array per image (zarr arrays hold no open files).

    ``axes_of`` names each image's axes; the ``bioio`` loader passes bioio-ome-zarr's rule.
    """

    def __init__(
        self,
        path: str,
        found: Sequence[ZarrImage],
        axes_of: AxesOf = zarr_axes,
        budget: Budget | None = None,
    ) -> None:
        from pixel_patrol_loader_bio._dims import plan_axes
        from pixel_patrol_loader_bio._zarrguard import open_checked

        ids = unique_ids(im.name for im in found) if len(found) > 1 else [None]
        self._budget = budget or Budget()
        self._arrays: list[Any] = []
        planned = []
        for im, child_id in zip(found, ids, strict=True):
            arr = open_checked(path, im.array_path)
            shape = tuple(int(n) for n in arr.shape)
            if len(shape) < 2:
                raise ImageReadError(
                    path, f"array '{im.array_path}' has {len(shape)} axes, an image needs 2", READER
                )
            plan = plan_axes(axes_of(im, shape), shape)
            meta = clean({**im.metadata, "reader": READER}, plan.dim_order)
            header = ImageHeader(plan.dim_order, plan.shape, dtype_name(arr.dtype), child_id, meta)
            planned.append(Planned(header, plan, _chunk_refusal(arr, self._budget)))
            self._arrays.append(arr)
        super().__init__(path, READER, planned)

    def _read_raw(self, index: int, raw: tuple[slice, ...] | None) -> np.ndarray:
        import zarr

        from pixel_patrol_loader_bio._chunkcheck import ChunkError

        arr = self._arrays[index]
        default = int(zarr.config.get("async.concurrency"))
        side_by_side = self._budget.workers_for(_chunk_nbytes(arr), default)
        try:
            with zarr.config.set({"async.concurrency": side_by_side}):
                return np.asarray(arr[...] if raw is None else arr[raw])
        except ChunkError as exc:
            raise ImageReadError(self.path, str(exc), READER) from exc

    def _release(self) -> None:
        self._arrays = []


__all__ = ["ZarrLoader"]
