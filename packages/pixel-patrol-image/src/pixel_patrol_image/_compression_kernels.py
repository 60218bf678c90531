"""Per-plane kernel of ``raster-compression`` (see ``docs/metrics.md``).

``blocking_index`` (:mod:`pixel_patrol_image._blocking`) compares intensity steps on the
8-pixel block grid of JPEG/MPEG-style codecs with the steps everywhere else;
``ringing_index`` (:mod:`pixel_patrol_image._ringing`) measures ripples beside strong edges
that run parallel to them. One compiled scan of each plane, in its own dtype, feeds both
(:mod:`pixel_patrol_image._tiles`); the whole plane is one tile here.
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_base.scratch import per_thread
from pixel_patrol_image import _blocking, _ringing
from pixel_patrol_image._tiles import Scratch, plane_partials
from pixel_patrol_image._workspace import Workspace

NAMES = ("blocking_index", "ringing_index")


def compression_metrics(raw: np.ndarray, masked: bool, ws: Workspace) -> np.ndarray:
    """Both ``raster-compression`` metrics of a ``(b, H, W)`` batch in the input dtype, one
    row per metric (:data:`NAMES` order).

    Non-finite pixels need no separate path (``masked`` is not used): every step or edge site
    that reads one is left out by the scan itself.
    """
    buffers = scratch()
    out = np.empty((len(NAMES), len(raw)))
    for k in range(len(raw)):
        block, ring = plane_partials(raw[k], buffers)
        out[0, k] = _blocking.finalize(block)
        out[1, k] = _ringing.finalize(ring)
    return out


def scratch() -> Scratch:
    """This thread's scan buffers (threads of a worker run kernels side by side)."""
    return per_thread("raster-compression", Scratch)
