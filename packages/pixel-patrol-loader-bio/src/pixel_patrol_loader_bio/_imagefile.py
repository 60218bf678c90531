"""Opened files whose images map onto a raw array through an :class:`AxisPlan`.

The contract's checks (state, index, region, reader failures, shape and dtype) are base's
:class:`~pixel_patrol_base.imagefile.BaseImageFile`; this adds the mapping of a region through
the plan, so a concrete file only says how to decode a raw box of image ``index``
(:meth:`PlannedImageFile._read_raw`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pixel_patrol_base.contracts import ImageHeader, Region
from pixel_patrol_base.imagefile import BaseImageFile, dtype_name
from pixel_patrol_loader_bio._dims import AxisPlan

__all__ = ["Planned", "PlannedImageFile", "dtype_name"]


@dataclass(frozen=True, slots=True)
class Planned:
    """One image of a file: its header and how its raw array maps onto it."""

    header: ImageHeader
    plan: AxisPlan
    refusal: str | None = None
    """Why the image cannot be decoded within the memory budget (``None``: it can)."""


class PlannedImageFile(BaseImageFile):
    """Base for the loaders' files: subclasses call ``super().__init__`` with the images they
    found and implement :meth:`_read_raw` and, when they hold handles, ``_release``."""

    def __init__(self, path: str, reader: str, images: Sequence[Planned]) -> None:
        self._planned = list(images)
        super().__init__(
            path, reader, [p.header for p in self._planned], [p.refusal for p in self._planned]
        )

    def _region_shape(self, index: int, region: Region | None) -> tuple[int, ...]:
        plan = self._planned[index].plan
        if region is None:
            return plan.shape
        return plan.region_shape(*plan.raw_region(region))

    def _decode_region(self, index: int, region: Region | None) -> np.ndarray:
        plan = self._planned[index].plan
        if region is None:
            return plan.finish(np.asarray(self._read_raw(index, None)))
        raw, post = plan.raw_region(region)
        return plan.finish(np.asarray(self._read_raw(index, raw)), post)

    def _read_raw(self, index: int, raw: tuple[slice, ...] | None) -> np.ndarray:
        """Decode the raw array of image ``index``, or only the box ``raw`` of it."""
        raise NotImplementedError
