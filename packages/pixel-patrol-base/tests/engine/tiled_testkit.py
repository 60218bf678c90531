"""A toy tiled processor with a survey pass, a halo and a global grid phase.

``stencil_mean`` of a plane is the mean over its pixels of
``(x[i-2, j] + x[i+2, j] + x[i, j-1] + x[i, j+2] - median) * (2 if j % 8 == 7 else 1)``
with zeros outside the plane and ``j`` the column in plane coordinates; ``stencil_median``
is the plane's lower median. ``run`` computes both with numpy on whole planes; the plane
program finds the median in a survey pass (sorted values of each tile, merged) and sums the
stencil over each tile's own pixels, so the two paths agree only if the engine gives every
tile its halo, its plane coordinates and the merged survey.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa

from pixel_patrol_base.contracts import Agg, Column, ImageContext, LeafStack, PlaneTile

HALO = 2


def stencil(data: np.ndarray, median: float, col0: int) -> np.ndarray:
    """The weighted stencil at every pixel of ``data`` (zeros outside it)."""
    h, w = data.shape
    pad = np.zeros((h + 4, w + 4))
    pad[2 : h + 2, 2 : w + 2] = data
    s = pad[0:h, 2 : w + 2] + pad[4 : h + 4, 2 : w + 2] + pad[2 : h + 2, 1 : w + 1]
    s = s + pad[2 : h + 2, 4 : w + 4] - median
    weight = np.where((col0 + np.arange(w)) % 8 == 7, 2.0, 1.0)
    return s * weight


def lower_median(values: np.ndarray) -> float:
    s = np.sort(values.ravel())
    return float(s[(len(s) - 1) // 2])


class Stencil:
    """The toy processor (see the module docstring)."""

    NAME: ClassVar[str] = "stencil"
    KIND: ClassVar[Literal["leaf"]] = "leaf"
    NEEDS_RANGE: ClassVar[bool] = False
    HALO: ClassVar[int] = HALO
    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("stencil_mean", pa.float64(), "Toy stencil mean.", Agg.MEAN, weight="stencil_planes"),
        Column("stencil_median", pa.float64(), "Toy median.", Agg.MEAN, weight="stencil_planes"),
        Column("stencil_planes", pa.int64(), "Planes.", Agg.SUM, internal=True),
    )

    def run(self, stack: LeafStack) -> Mapping[str, np.ndarray]:
        order = stack.image.dim_order
        y, x = 1 + order.index("Y"), 1 + order.index("X")
        planes = np.moveaxis(stack.data, (y, x), (-2, -1))
        n = len(stack.data)
        flat = planes.reshape(n, -1, *planes.shape[-2:]).astype(np.float64)
        means = np.zeros(n)
        medians = np.zeros(n)
        for i, leaf in enumerate(flat):
            vals = [(stencil(p, lower_median(p), 0).mean(), lower_median(p)) for p in leaf]
            means[i] = np.mean([v[0] for v in vals])
            medians[i] = np.mean([v[1] for v in vals])
        count = np.full(n, flat.shape[1], dtype=np.int64)
        return {"stencil_mean": means, "stencil_median": medians, "stencil_planes": count}

    def program(self, image: ImageContext, shape: tuple[int, int]) -> _Program:
        return _Program(None)


@dataclass(frozen=True)
class _Program:
    median: float | None

    @property
    def last(self) -> bool:
        return self.median is not None

    def visit(self, tile: PlaneTile) -> Any:
        y0, y1, x0, x1 = tile.own
        data = tile.data.astype(np.float64)
        if self.median is None:
            return np.sort(data[y0:y1, x0:x1].ravel())
        s = stencil(data, self.median, tile.origin[1])[y0:y1, x0:x1]
        return np.array([s.sum(), s.size])

    def merge(self, partials: Sequence[Any]) -> Any:
        if self.median is None:
            return np.sort(np.concatenate(partials))
        return np.sum(partials, axis=0)

    def advance(self, merged: Any) -> _Program:
        return _Program(float(merged[(len(merged) - 1) // 2]))

    def finish(self, merged: Any) -> Mapping[str, float]:
        assert self.median is not None
        return {
            "stencil_mean": merged[0] / merged[1],
            "stencil_median": self.median,
            "stencil_planes": 1,
        }
