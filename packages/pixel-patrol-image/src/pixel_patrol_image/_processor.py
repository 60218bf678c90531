"""What the two image processors share: per-plane kernels turned into per-leaf values, and
plane programs for planes seen in tiles."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

import numpy as np

from pixel_patrol_base.contracts import ImageContext, LeafStack, PlaneProgram
from pixel_patrol_image import _compile_ahead
from pixel_patrol_image._planes import per_leaf, per_plane, to_planes


class PlaneMetricProcessor:
    """A leaf processor whose metrics are defined on single (Y, X) planes.

    Subclasses set ``NAME``, ``COLUMNS`` and ``HALO`` (the neighbourhood support of their
    metrics, see :class:`~pixel_patrol_base.contracts.TiledProcessor`), return their kernel
    from :meth:`kernels` and their plane program from :meth:`program`, importing both there
    so that listing or selecting plugins stays fast.
    """

    NAME: ClassVar[str]
    KIND: ClassVar[Literal["leaf"]] = "leaf"
    NEEDS_RANGE: ClassVar[bool] = False
    LIBRARIES: ClassVar[tuple[str, ...]] = ("numpy", "numba", "llvmlite")
    """The compiled kernels' results depend on numba and its LLVM as well as on numpy."""
    HALO: ClassVar[int] = 0

    def __init__(self) -> None:
        # Noted so that a cold kernel cache is compiled for processors that will run here only.
        _compile_ahead.note_in_use(self.NAME)

    def kernels(self) -> tuple[tuple[str, ...], Callable[..., Any]]:
        """Metric names and the per-plane kernel computing them."""
        raise NotImplementedError

    def program(self, image: ImageContext, shape: tuple[int, int]) -> PlaneProgram:
        """The first pass of a plane of ``shape`` seen in tiles."""
        raise NotImplementedError

    def run(self, stack: LeafStack) -> Mapping[str, np.ndarray]:
        """Per-leaf means over valid planes and the valid-plane counts (rollup weights)."""
        _compile_ahead.before_kernels(self.NAME, stack.data.dtype)
        names, kernel = self.kernels()
        planes = to_planes(stack.data, stack.image.dim_order)
        return per_leaf(per_plane(planes, names, kernel), names, planes.n_leaves)
