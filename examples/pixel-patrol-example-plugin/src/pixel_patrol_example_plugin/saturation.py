"""``example-saturation``: how many pixels sit at the top of the pixel type's range.

Clipped (saturated) pixels carry no information about the true intensity: a detector pushed
beyond its range, or an image rescaled into too narrow a type. For integer and boolean images
a pixel is saturated when it equals the type's largest value (255 for ``uint8``); for float
images when it is ``+Inf``. NaN pixels are not counted as saturated but are counted as pixels.

The values are mergeable, so every obs level rolls up from the leaf blocks exactly:
``saturated_count`` is a sum, ``saturated_fraction`` a mean weighted by the internal column
``example_pixels`` (the number of values in the block).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
from pixel_patrol_base.contracts import Agg, Column, LeafStack


def top_value(dtype: np.dtype) -> float | int | bool:
    """The value that counts as saturated for ``dtype``."""
    if dtype.kind == "b":
        return True
    if dtype.kind in "iu":
        return int(np.iinfo(dtype).max)
    return float("inf")


class Saturation:
    """Leaf processor: saturated pixels per leaf block."""

    NAME: ClassVar[str] = "example-saturation"
    KIND: ClassVar[Literal["leaf"]] = "leaf"
    NEEDS_RANGE: ClassVar[bool] = False
    LIBRARIES: ClassVar[tuple[str, ...]] = ("numpy",)
    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column(
            "saturated_count",
            pa.int64(),
            "Pixels at the largest value of the pixel type (+Inf for floats).",
            Agg.SUM,
        ),
        Column(
            "saturated_fraction",
            pa.float64(),
            "saturated_count divided by the number of values the row covers (0..1).",
            Agg.MEAN,
            weight="example_pixels",
        ),
        Column(
            "example_pixels",
            pa.int64(),
            "Values in the block (rollup weight of saturated_fraction).",
            Agg.SUM,
            internal=True,
        ),
    )

    def run(self, stack: LeafStack) -> Mapping[str, np.ndarray]:
        """One value per leaf of ``stack`` (first axis of every array = number of leaves)."""
        flat = stack.data.reshape(len(stack.data), -1)
        count = np.count_nonzero(flat == top_value(flat.dtype), axis=1).astype(np.int64)
        pixels = np.full(len(flat), flat.shape[1], dtype=np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            fraction = np.where(pixels > 0, count / np.maximum(pixels, 1), np.nan)
        return {"saturated_count": count, "saturated_fraction": fraction, "example_pixels": pixels}
