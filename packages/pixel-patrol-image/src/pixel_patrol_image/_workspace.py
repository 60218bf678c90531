"""Reusable scratch arrays for the per-batch kernels.

A 512x512 float64 temporary is 2 MB; allocating a few dozen of them per plane means the
process keeps faulting in fresh memory pages from the OS, which measured as a third of the
total run time. Kernels therefore write into named buffers that live for one processor run
and are reused by every batch of the same shape.
"""

from __future__ import annotations

import numpy as np


class Workspace:
    """Named float64 (or other dtype) buffers, reallocated only when the shape changes."""

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
        """Uninitialised buffer ``name`` of ``shape``; the caller overwrites every element."""
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = np.empty(shape, dtype=dtype)
            self._buffers[name] = buf
        return buf
