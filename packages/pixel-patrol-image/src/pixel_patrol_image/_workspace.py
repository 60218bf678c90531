"""Reusable scratch arrays for the per-batch kernels.

A 512x512 plane's float32 maps are 1 MB each; allocating a few dozen of them per plane means
the process keeps faulting in fresh memory pages from the OS, which measured as a third of the
total run time. Kernels therefore write into named buffers that live for one processor run
and are reused by every batch of the same shape.
"""

from __future__ import annotations

import threading

import numpy as np


class Workspace:
    """Named buffers, reallocated only when the shape or dtype changes."""

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
        """Buffer ``name`` of ``shape``, zero when new, else holding what was written last.

        Kernels often compute on whole padded buffers and read only the plane pixels, so
        parts of a buffer may never be written; zeros (rather than uninitialised memory,
        which may hold signalling NaNs) keep such parts quiet.
        """
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = np.zeros(shape, dtype=dtype)
            self._buffers[name] = buf
        return buf

    def zeros(self, name: str, shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
        """Read-only buffer ``name`` of ``shape`` filled with zeros."""
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = np.zeros(shape, dtype=dtype)
            buf.flags.writeable = False
            self._buffers[name] = buf
        return buf


_LOCAL = threading.local()


def thread_workspace(owner: str) -> Workspace:
    """This thread's :class:`Workspace` for ``owner`` (a kernel's name), kept between calls.

    A fresh workspace per image (or per tile) faults its buffers in from the system again
    each time, which costs more than the arithmetic of a small image. Buffers keep one
    shape per name (a batch of at most ``BATCH_PIXELS``, or a tile of at most
    ``TILE_PIXELS``), and every kernel of an owner writes the same parts of a buffer of a
    given shape, so parts never written stay zero as in a new one. Threads of a worker
    each get their own.
    """
    spaces: dict[str, Workspace] | None = getattr(_LOCAL, "spaces", None)
    if spaces is None:
        spaces = _LOCAL.spaces = {}
    ws = spaces.get(owner)
    if ws is None:
        ws = spaces[owner] = Workspace()
    return ws
