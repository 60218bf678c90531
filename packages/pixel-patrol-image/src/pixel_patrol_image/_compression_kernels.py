"""Per-plane kernels of ``raster-compression`` (see ``docs/metrics.md``).

``blocking_index`` (here) compares intensity steps on the 8-pixel block grid of
JPEG/MPEG-style codecs with the steps everywhere else; ``ringing_index`` (in
:mod:`pixel_patrol_image._ringing`) compares oscillation in a band next to strong edges with
oscillation far away from them. Both are ratios, so they do not depend on the gain or offset of
the intensities, and both are about 1 when the effect is absent.
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_image._ringing import ringing_index
from pixel_patrol_image._robust import FloatPlanes, prepare
from pixel_patrol_image._workspace import Workspace

NAMES = ("blocking_index", "ringing_index")

BLOCK = 8
"""Block size of the coding grid (JPEG, MPEG-1/2, H.261/263 luma transforms)."""


def compression_metrics(raw: np.ndarray, ws: Workspace) -> dict[str, np.ndarray]:
    """Both ``raster-compression`` metrics of a ``(b, H, W)`` batch in the input dtype."""
    fp = prepare(raw, ws)
    return {"blocking_index": blocking_index(fp, ws), "ringing_index": ringing_index(fp, ws)}


def blocking_index(fp: FloatPlanes, ws: Workspace) -> np.ndarray:
    """Mean |step| across the 8-pixel grid lines divided by the mean |step| off them.

    Steps are differences of horizontally and vertically adjacent finite pixels; a step is
    "on the grid" between columns (rows) ``8k+7`` and ``8k+8`` counted from the plane origin.
    Null without a grid step (plane under 9 px both ways), without any off-grid activity, or
    for a constant plane.
    """
    on = np.zeros(len(fp.centred))
    n_on = np.zeros(len(fp.centred))
    off = np.zeros(len(fp.centred))
    n_off = np.zeros(len(fp.centred))
    for axis in (1, 2):
        s_on, c_on, s_off, c_off = _grid_step_sums(fp, axis, ws)
        on += s_on
        n_on += c_on
        off += s_off
        n_off += c_off
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (on / n_on) / (off / n_off)
    defined = fp.valid & (n_on > 0) & (n_off > 0) & (off > 0)
    return np.where(defined, ratio, np.nan)


def _grid_step_sums(
    fp: FloatPlanes, axis: int, ws: Workspace
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sum and count of |steps| on and off the grid along ``axis`` (1 = Y, 2 = X)."""
    x = fp.centred
    n = x.shape[axis]
    head = [slice(None)] * 3
    tail = [slice(None)] * 3
    grid = [slice(None)] * 3
    head[axis], tail[axis] = slice(1, None), slice(None, n - 1)
    grid[axis] = slice(BLOCK - 1, None, BLOCK)
    shape = list(x.shape)
    shape[axis] = max(n - 1, 0)
    step = np.subtract(x[tuple(head)], x[tuple(tail)], out=ws.get(f"step{axis}", tuple(shape)))
    np.abs(step, out=step)
    if fp.finite is None:
        total, on = step.sum(axis=(1, 2)), step[tuple(grid)].sum(axis=(1, 2))
        per_plane = step.size // max(len(x), 1)
        on_grid = step[tuple(grid)].size // max(len(x), 1)
        count_total, count_on = np.full(len(x), per_plane), np.full(len(x), on_grid)
    else:
        both = fp.finite[tuple(head)] & fp.finite[tuple(tail)]
        step[~both] = 0.0
        total, on = step.sum(axis=(1, 2)), step[tuple(grid)].sum(axis=(1, 2))
        count_total, count_on = both.sum(axis=(1, 2)), both[tuple(grid)].sum(axis=(1, 2))
    return on, count_on, total - on, count_total - count_on
