"""A base class for the opened files of loaders (the ``ImageFile`` contract, done once).

A concrete file says how to decode image ``index`` (or a region of it): :meth:`_decode_region`.
Checking the state, index and region, turning reader failures into one-line
:class:`~pixel_patrol_base.errors.ImageReadError` and verifying the result against the header
(shape, dtype, native byte order) live here, so every loader behaves the same on bad input.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from pixel_patrol_base.contracts import ImageHeader, Region
from pixel_patrol_base.errors import ImageReadError, MissingDependencyError
from pixel_patrol_base.regions import region_shape

__all__ = ["BaseImageFile", "dtype_name"]


def dtype_name(dtype: Any) -> str:
    """NumPy name of ``dtype`` in native byte order (``'>u2'`` and ``'<u2'`` are both uint16)."""
    result: str = np.dtype(dtype).newbyteorder("=").name
    return result


class BaseImageFile:
    """Common behaviour of opened files; subclasses implement :meth:`_decode_region`.

    ``refusals`` gives, per image, why it cannot be decoded (e.g. over a memory budget) or
    ``None``. A refused image fails when it is read; when every image of the file is refused,
    opening fails, so the file is one error row and is never split into regions. Subclasses
    holding handles set them before calling ``super().__init__`` and release them in
    :meth:`_release`.
    """

    def __init__(
        self,
        path: str,
        reader: str,
        headers: Sequence[ImageHeader],
        refusals: Sequence[str | None] = (),
    ) -> None:
        self.path = path
        self.reader = reader
        self._headers = list(headers)
        self._refusals = list(refusals) or [None] * len(self._headers)
        self._closed = False
        refused = [r for r in self._refusals if r]
        if refused and len(refused) == len(self._headers):
            self.close()
            raise ImageReadError(path, refused[0], reader)

    @property
    def images(self) -> list[ImageHeader]:
        """Headers of the images in the file."""
        return list(self._headers)

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
        if not 0 <= index < len(self._headers):
            raise IndexError(f"image {index} out of range: {self.path} has {len(self._headers)}")
        header = self._headers[index]
        if self._refusals[index]:
            raise ImageReadError(self.path, str(self._refusals[index]), self.reader)
        expected = self._region_shape(index, region)
        if 0 in expected:
            return np.empty(expected, dtype=header.dtype)
        try:
            arr = np.asarray(self._decode_region(index, region))
        except (ImageReadError, MissingDependencyError):
            raise
        except Exception as exc:
            raise ImageReadError.from_exception(self.path, exc, self.reader) from exc
        return self._checked(header, arr, expected)

    def _region_shape(self, index: int, region: Region | None) -> tuple[int, ...]:
        """Shape :meth:`read` returns; raises ``ValueError`` for a region that does not fit."""
        return region_shape(region, self._headers[index].shape)

    def _decode_region(self, index: int, region: Region | None) -> np.ndarray:
        """Decode image ``index`` (or only ``region`` of it) in its ``dim_order``."""
        raise NotImplementedError

    def _checked(
        self, header: ImageHeader, arr: np.ndarray, expected: tuple[int, ...]
    ) -> np.ndarray:
        """Native byte order, and the shape and dtype the header promised.

        A dtype can spell the machine's own order explicitly (zarr returns ``<u2`` with
        ``byteorder == "<"``): relabelled as ``=`` without a copy; only foreign bytes are swapped.
        """
        if arr.shape != expected:
            raise ImageReadError(
                self.path, f"reader returned shape {arr.shape}, expected {expected}", self.reader
            )
        if arr.dtype.byteorder not in "=|":
            native = arr.dtype.newbyteorder("=")
            arr = arr.view(native) if arr.dtype.isnative else arr.astype(native)
        if arr.dtype.name != header.dtype:
            raise ImageReadError(
                self.path,
                f"reader returned {arr.dtype.name}, header says {header.dtype}",
                self.reader,
            )
        return arr

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
