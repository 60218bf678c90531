"""Per-plane kernels of ``raster-compression`` (see ``docs/metrics.md``).

``blocking_index`` (here) compares intensity steps on the 8-pixel block grid of
JPEG/MPEG-style codecs with the steps everywhere else; ``ringing_index`` (in
:mod:`pixel_patrol_image._ringing`) compares oscillation in a band next to strong edges with
oscillation far away from them. Both are ratios, so they do not depend on the gain or offset of
the intensities, and both are about 1 when the effect is absent.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pixel_patrol_image._ringing import ringing_index
from pixel_patrol_image._robust import FloatPlanes, prepare
from pixel_patrol_image._sums import plane_sums
from pixel_patrol_image._workspace import Workspace

NAMES = ("blocking_index", "ringing_index")

BLOCK = 8
"""Block size of the coding grid (JPEG, MPEG-1/2, H.261/263 luma transforms)."""

F32 = np.float32


def compression_metrics(raw: np.ndarray, masked: bool, ws: Workspace) -> dict[str, np.ndarray]:
    """Both ``raster-compression`` metrics of a ``(b, H, W)`` batch in the input dtype."""
    fp = prepare(raw, masked, ws)
    return {"blocking_index": blocking_index(fp, ws), "ringing_index": ringing_index(fp, ws)}


def blocking_index(fp: FloatPlanes, ws: Workspace) -> np.ndarray:
    """Mean |step| across the 8-pixel grid lines divided by the mean |step| off them.

    Steps are differences of horizontally and vertically adjacent finite pixels; a step is
    "on the grid" between columns (rows) ``8k+7`` and ``8k+8`` counted from the plane origin.
    Null without a grid step (plane under 9 px both ways), without any off-grid activity, or
    for a constant plane.
    """
    b = fp.layout.planes
    on, n_on, off, n_off = (np.zeros(b) for _ in range(4))
    for axis in (1, 2):
        s_on, c_on, s_off, c_off = _grid_step_sums(fp, axis, ws)
        on += s_on
        n_on += c_on
        off += s_off
        n_off += c_off
    ratio = (on / n_on) / (off / n_off)
    defined = fp.stats.valid & (n_on > 0) & (n_off > 0) & (off > 0)
    return np.where(defined, ratio, np.nan)


def _grid_step_sums(
    fp: FloatPlanes, axis: int, ws: Workspace
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sum and count of |steps| on and off the grid along ``axis`` (1 = Y, 2 = X)."""
    layout = fp.layout
    b = layout.planes
    shift = layout.stride if axis == 1 else 1
    lo, hi = layout.lead, layout.size - layout.stride  # every plane row; neighbour inside
    x = fp.buf
    steps_buf = ws.get("steps", x.shape, F32)
    steps = np.subtract(x[lo + shift : hi + shift], x[lo:hi], out=steps_buf[lo:hi])
    np.abs(steps, out=steps)
    if fp.mask_group is None:
        total, on = _on_and_off(fp.stack.interior(steps_buf, 0, b), axis, plane_sums)
        n_total, n_on = _on_and_off(fp.stack.interior(steps_buf, 0, b), axis, _sizes)
        return on, n_on, total - on, n_total - n_on
    m = x[fp.mask_group * b * layout.block :]
    pairs_buf = ws.get("pairs", x.shape, F32)
    pairs = np.multiply(m[lo + shift : hi + shift], m[lo:hi], out=pairs_buf[lo:hi])
    steps *= pairs
    total, on = _on_and_off(fp.stack.interior(steps_buf, 0, b), axis, plane_sums)
    n_total, n_on = _on_and_off(fp.stack.interior(pairs_buf, 0, b), axis, plane_sums)
    return on, n_on, total - on, n_total - n_on


def _on_and_off(
    pixels: np.ndarray, axis: int, reduce: Callable[[np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """``reduce`` over all steps along ``axis`` and over those on the grid.

    ``pixels[:, i, j]`` holds the step from pixel ``(i, j)`` to its next neighbour; the last
    row (``axis`` 1) or column (``axis`` 2) has none.
    """
    if axis == 1:
        steps = pixels[:, : pixels.shape[1] - 1, :]
        return reduce(steps), reduce(steps[:, BLOCK - 1 :: BLOCK, :])
    steps = pixels[:, :, : pixels.shape[2] - 1]
    return reduce(steps), reduce(steps[:, :, BLOCK - 1 :: BLOCK])


def _sizes(v: np.ndarray) -> np.ndarray:
    """Number of elements per plane (the count when every pixel is finite)."""
    return np.full(len(v), float(v[0].size) if len(v) else 0.0)
