"""Reads come back in native byte order: relabelled when they already are, swapped otherwise."""

from __future__ import annotations

import sys

import numpy as np

from pixel_patrol_base.contracts import ImageHeader, Region
from pixel_patrol_base.imagefile import BaseImageFile

NATIVE = "<" if sys.byteorder == "little" else ">"
FOREIGN = ">" if NATIVE == "<" else "<"


class _Fixed(BaseImageFile):
    def __init__(self, pixels: np.ndarray) -> None:
        self.pixels = pixels
        super().__init__("mem", "test", [ImageHeader("YX", pixels.shape, "uint16")])

    def _region_shape(self, index: int, region: Region | None) -> tuple[int, ...]:
        return tuple(self.pixels.shape)

    def _decode_region(self, index: int, region: Region | None) -> np.ndarray:
        return self.pixels


def test_explicit_native_order_is_relabelled_without_a_copy() -> None:
    values = np.arange(12, dtype=np.uint16).reshape(3, 4)
    explicit = values.view(np.dtype(np.uint16).newbyteorder(NATIVE))
    assert explicit.dtype.byteorder == NATIVE  # the spelling zarr returns
    out = _Fixed(explicit).read(0)
    assert out.dtype.byteorder == "=" and np.shares_memory(out, explicit)
    assert np.array_equal(out, values)


def test_foreign_order_is_swapped() -> None:
    values = np.arange(12, dtype=np.uint16).reshape(3, 4)
    foreign = values.astype(np.dtype(np.uint16).newbyteorder(FOREIGN))
    out = _Fixed(foreign[:, ::2]).read(0)
    assert out.dtype.byteorder == "=" and np.array_equal(out, values[:, ::2])
