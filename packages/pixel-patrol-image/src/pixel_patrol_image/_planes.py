"""Plane layout, batching and the per-leaf reduction shared by every kernel of this package.

The engine hands a processor ``n`` leaf blocks stacked as ``(n, *leaf_shape)``; a leaf may hold
several 2-D (Y, X) planes (``--slice-size Z=5``, an RGB ``S`` axis, ...). Every metric here is
defined per plane, so the kernels see the stack as ``(P, H, W)`` planes, leaf-major, and the
result of a leaf is the mean over its *valid* planes together with their count. The engine's
count-weighted rollup then equals the plain mean over all valid planes of any coarser row,
whatever the slicing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from pixel_patrol_image._workspace import Workspace, thread_workspace

BATCH_PIXELS = 1 << 18
"""Pixels per batch of planes: one 512x512 plane, or many small ones.

The float32 maps of a batch (a few MB) stay in the L2/L3 cache, and the budget bounds the
memory of the temporaries whatever the size of the stack. Results do not depend on it.
"""

SUPPORTED_KINDS = "biuf"
"""Pixel kinds the metrics are defined for: bool, signed and unsigned integers, floats."""


@dataclass(frozen=True, slots=True)
class PlaneStack:
    """A leaf stack seen as planes.

    Attributes
    ----------
    planes
        ``(P, H, W)`` array in the input dtype, leaf-major (planes of leaf 0 first).
    n_leaves
        Number of leaf blocks ``n``; ``P`` is a multiple of it.
    """

    planes: np.ndarray
    n_leaves: int

    @property
    def height(self) -> int:
        """Plane extent along Y."""
        return int(self.planes.shape[1])

    @property
    def width(self) -> int:
        """Plane extent along X."""
        return int(self.planes.shape[2])


def to_planes(data: np.ndarray, dim_order: str) -> PlaneStack:
    """View a leaf stack ``(n, *leaf_shape)`` as ``(P, H, W)`` planes.

    Parameters
    ----------
    data
        Leaf blocks stacked on a new first axis; the leaf axes follow ``dim_order``.
    dim_order
        Axis letters of a leaf; must contain ``Y`` and ``X``.

    Returns
    -------
    PlaneStack
        A view when Y and X are already the last axes, otherwise a copy in the input dtype.
    """
    if data.dtype.kind not in SUPPORTED_KINDS:
        raise TypeError(f"pixel type {data.dtype} is not supported (need bool, integer or float)")
    if "Y" not in dim_order or "X" not in dim_order:
        raise ValueError(f"dim_order {dim_order!r} has no Y and X axes")
    if data.ndim != len(dim_order) + 1:
        raise ValueError(f"leaf stack has {data.ndim - 1} leaf axes, dim_order {dim_order!r}")
    y, x = 1 + dim_order.index("Y"), 1 + dim_order.index("X")
    last = (y, x) == (data.ndim - 2, data.ndim - 1)
    moved = data if last else np.moveaxis(data, (y, x), (-2, -1))
    *lead, h, w = moved.shape
    return PlaneStack(moved.reshape(math.prod(lead), h, w), int(data.shape[0]))


def batches(n_planes: int, plane_pixels: int, budget: int = BATCH_PIXELS) -> Iterator[slice]:
    """Consecutive plane ranges holding at most ``budget`` pixels (at least one plane each)."""
    step = max(1, budget // max(plane_pixels, 1))
    for start in range(0, n_planes, step):
        yield slice(start, min(n_planes, start + step))


PlaneMetrics = Callable[[np.ndarray, bool, Workspace], np.ndarray]
"""A kernel: ``(b, H, W)`` planes in the input dtype, whether they hold non-finite pixels
(all of them do, or none), and scratch buffers -> ``(metrics, b)`` float64 values, one row
per metric."""


def per_plane(stack: PlaneStack, names: tuple[str, ...], kernel: PlaneMetrics) -> np.ndarray:
    """Run ``kernel`` over the planes batch by batch: ``(len(names), P)`` float64 values, NaN
    marking an undefined plane value.

    Within a batch, planes with a non-finite pixel go to the kernel separately from the
    others, so the arithmetic applied to a plane depends on that plane alone and never on
    which planes the engine happened to stack with it.
    """
    n = len(stack.planes)
    if n * stack.height * stack.width == 0:
        return np.full((len(names), n), np.nan)
    ws = thread_workspace(names[0])
    ranges = list(batches(n, stack.height * stack.width, BATCH_PIXELS))
    out: np.ndarray | None = None
    for sl in ranges:
        raw = stack.planes[sl]
        for index, masked in _finite_groups(raw):
            with np.errstate(invalid="ignore", divide="ignore"):  # undefined values become NaN
                values = kernel(raw if index is None else raw[index], masked, ws)
            if index is None and len(ranges) == 1:  # the common case: one call, no copy
                return values
            if out is None:
                out = np.full((len(names), n), np.nan)
            target = out[:, sl]
            if index is None:
                target[:] = values
            else:
                target[:, index] = values
    assert out is not None  # n > 0: some batch ran
    return out


def _finite_groups(raw: np.ndarray) -> list[tuple[np.ndarray | None, bool]]:
    """Split a batch into planes without and with non-finite pixels (``None`` = all planes).

    A float plane is entirely finite exactly when its minimum and maximum are (NaN
    propagates through both, an infinity is one of them): two fast passes.
    """
    if raw.dtype.kind != "f":
        return [(None, False)]
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(raw.min(axis=(1, 2))) & np.isfinite(raw.max(axis=(1, 2)))
    if ok.all():
        return [(None, False)]
    if not ok.any():
        return [(None, True)]
    return [(np.flatnonzero(ok), False), (np.flatnonzero(~ok), True)]


def weight_name(metric: str) -> str:
    """Name of the internal column counting the planes behind a leaf's ``metric`` value."""
    return f"{metric}_planes"


def per_leaf(values: np.ndarray, names: tuple[str, ...], n_leaves: int) -> dict[str, np.ndarray]:
    """Mean over the valid (finite) planes of each leaf, plus the number of valid planes.

    Parameters
    ----------
    values
        ``(len(names), P)`` per-plane values, leaf-major, ``P = n_leaves * k``.
    names
        The metrics, one per row of ``values``.
    n_leaves
        Number of leaf blocks.

    Returns
    -------
    dict
        For every metric ``m``: ``m`` (float64, NaN where no plane is valid) and
        ``m_planes`` (int64 count of valid planes, the rollup weight).
    """
    m = len(names)
    if n_leaves and values.shape[1] == n_leaves:  # one plane per leaf: its value, if defined
        ok = np.isfinite(values)
        means = np.where(ok, values, np.nan)
        counts = ok.astype(np.int64)
    else:
        per = values.reshape(m, n_leaves, -1) if n_leaves else values.reshape(m, 0, 0)
        ok = np.isfinite(per)
        counts = ok.sum(axis=2, dtype=np.int64)
        total = np.where(ok, per, 0.0).sum(axis=2)  # each leaf's planes in a row, in order
        means = np.full((m, n_leaves), np.nan)
        np.divide(total, counts, out=means, where=counts > 0)
    out: dict[str, np.ndarray] = {}
    for i, name in enumerate(names):
        out[name] = means[i]
        out[weight_name(name)] = counts[i]
    return out
