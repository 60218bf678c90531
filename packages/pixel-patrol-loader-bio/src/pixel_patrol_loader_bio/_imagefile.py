"""The part of an opened file that is the same for every loader.

A concrete file only says how to decode a raw box of image ``index``
(:meth:`BaseImageFile._read_raw`); checking the index and region, mapping the region through
the :class:`~pixel_patrol_loader_bio._dims.AxisPlan`, turning reader failures into
:class:`ImageReadError` and verifying the result against the header live here once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pixel_patrol_base.contracts import ImageHeader, Region
from pixel_patrol_base.errors import ImageReadError, MissingDependencyError
from pixel_patrol_loader_bio._dims import AxisPlan
from pixel_patrol_loader_bio._errors import read_error


def dtype_name(dtype: Any) -> str:
    """NumPy name of ``dtype`` in native byte order (``'>u2'`` and ``'<u2'`` are both uint16)."""
    result: str = np.dtype(dtype).newbyteorder("=").name
    return result


@dataclass(frozen=True, slots=True)
class Planned:
    """One image of a file: its header and how its raw array maps onto it."""

    header: ImageHeader
    plan: AxisPlan
    refusal: str | None = None
    """Why the image cannot be decoded within the memory budget (``None``: it can)."""


class BaseImageFile:
    """Common behaviour of the loaders' opened files (see ``ImageFile`` in the contracts).

    Subclasses call ``super().__init__`` with the images they found and implement
    :meth:`_read_raw` and, when they hold handles, :meth:`_release`. An image the memory
    budget refuses (``Planned.refusal``) fails when it is read; when every image of the file is
    refused, opening fails, so the file is one error row and is never split into regions.
    """

    def __init__(self, path: str, reader: str, images: Sequence[Planned]) -> None:
        self.path = path
        self.reader = reader
        self._planned = list(images)
        self._closed = False
        refused = [p.refusal for p in self._planned if p.refusal]
        if refused and len(refused) == len(self._planned):
            self.close()  # subclasses set their handles before calling this
            raise ImageReadError(path, refused[0], reader)

    @property
    def images(self) -> list[ImageHeader]:
        """Headers of the images in the file."""
        return [p.header for p in self._planned]

    def read(self, index: int, region: Region | None = None) -> np.ndarray:
        """Pixels of image ``index`` (or of ``region``) in its ``dim_order``.

        Raises
        ------
        IndexError
            For an index outside the file's images.
        ValueError
            For a region that does not match the image's axes, or a closed file.
        ImageReadError
            When the reader fails to decode the pixels.
        """
        if self._closed:
            raise ValueError(f"{self.path} is closed")
        if not 0 <= index < len(self._planned):
            raise IndexError(f"image {index} out of range: {self.path} has {len(self._planned)}")
        header, plan = self._planned[index].header, self._planned[index].plan
        if self._planned[index].refusal:
            raise ImageReadError(self.path, str(self._planned[index].refusal), self.reader)
        raw, post = plan.raw_region(region)
        expected = plan.shape if region is None else plan.region_shape(raw, post)
        if 0 in expected:
            return np.empty(expected, dtype=header.dtype)
        try:
            block = self._read_raw(index, None if region is None else raw)
            arr = plan.finish(np.asarray(block), None if region is None else post)
        except (ImageReadError, MissingDependencyError):
            raise
        except Exception as exc:
            raise read_error(self.path, exc, self.reader) from exc
        return self._checked(header, arr, expected)

    def _checked(
        self, header: ImageHeader, arr: np.ndarray, expected: tuple[int, ...]
    ) -> np.ndarray:
        """Native byte order, and the shape and dtype the header promised."""
        if arr.shape != expected:
            raise ImageReadError(
                self.path, f"reader returned shape {arr.shape}, expected {expected}", self.reader
            )
        if arr.dtype.byteorder not in "=|":
            arr = arr.astype(arr.dtype.newbyteorder("="))
        if arr.dtype.name != header.dtype:
            raise ImageReadError(
                self.path,
                f"reader returned {arr.dtype.name}, header says {header.dtype}",
                self.reader,
            )
        return arr

    def _read_raw(self, index: int, raw: tuple[slice, ...] | None) -> np.ndarray:
        """Decode the raw array of image ``index``, or only the box ``raw`` of it."""
        raise NotImplementedError

    def _release(self) -> None:
        """Close the reader's handles (default: none held)."""

    def close(self) -> None:
        """Release file handles; further reads raise ``ValueError``."""
        if not self._closed:
            self._closed = True
            self._release()

    def __enter__(self) -> BaseImageFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # never raise from a finaliser
            self.close()
