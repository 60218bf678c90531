"""Test-only loaders for ``.npy`` files, importable by worker processes (tests/ is on sys.path).

``CrashingNpyLoader`` ends its own process with ``os._exit`` when it opens a file whose name
contains ``crash``: it stands in for a reader that segfaults or is killed for memory.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from pixel_patrol_base.contracts import Column, ImageHeader
from pixel_patrol_base.errors import ImageReadError

AXES = {1: "X", 2: "YX", 3: "ZYX", 4: "CZYX"}


class _NpyFile:
    def __init__(self, path: str) -> None:
        try:
            self.array = np.load(path, mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise ImageReadError(path, f"not a .npy file: {exc}", "numpy") from exc
        if self.array.ndim == 1:
            self.array = self.array[None, :]
        order = AXES.get(self.array.ndim, "YX")
        self.images = [ImageHeader(order, tuple(self.array.shape), str(self.array.dtype), None, {"reader": "numpy"})]

    def read(self, index: int, region: Any = None) -> np.ndarray:
        return np.array(self.array[region] if region else self.array)

    def close(self) -> None:
        del self.array

    def __enter__(self) -> _NpyFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NpyLoader:
    NAME: ClassVar[str] = "npy-test"
    SUPPORTED_EXTENSIONS: ClassVar[frozenset[str]] = frozenset({"npy"})
    FOLDER_EXTENSIONS: ClassVar[frozenset[str]] = frozenset()
    COLUMNS: ClassVar[tuple[Column, ...]] = (Column("reader", pa.string(), "Reader that decoded the file."),)

    def open(self, path: str) -> _NpyFile:
        return _NpyFile(path)


class CrashingNpyLoader(NpyLoader):
    NAME: ClassVar[str] = "npy-crash"

    def open(self, path: str) -> _NpyFile:
        if "crash" in os.path.basename(path):
            os._exit(13)
        return super().open(path)


class FailingNpyLoader(NpyLoader):
    """Fails the way readers do, with the file's absolute path in the exception text.

    A name containing ``perm`` raises ``PermissionError``, ``gone`` ``FileNotFoundError``,
    ``boom`` a ``RuntimeError`` and ``bad`` an ``ImageReadError`` whose cause quotes the path.
    """

    NAME: ClassVar[str] = "npy-fail"

    def open(self, path: str) -> _NpyFile:
        name = os.path.basename(path)
        if "perm" in name:
            raise PermissionError(13, "Permission denied", path)
        if "gone" in name:
            raise FileNotFoundError(2, "No such file or directory", path + ".sidecar")
        if "boom" in name:
            raise RuntimeError(f"decoder crashed on {path} (offset 12)")
        if "bad" in name:
            raise ImageReadError(path, f"cannot parse header of {path!r}", "numpy")
        return super().open(path)
