"""Helpers shared by the built-in leaf kernels: flat views and cache-sized pixel pieces."""

from __future__ import annotations

import threading

import numpy as np

PIECE_ELEMENTS = 1 << 16
"""Values per kernel step: float64 temporaries of this size stay in the CPU cache."""


def flat_leaves(data: np.ndarray) -> np.ndarray:
    """View a leaf stack ``(n, *leaf_shape)`` as ``(n, pixels)`` (copies only if not contiguous)."""
    return data.reshape(len(data), -1)


def pieces(n_leaves: int, n_pixels: int, limit: int | None = None) -> list[tuple[slice, slice]]:
    """Cut a ``(leaves, pixels)`` array into blocks of about ``limit`` values.

    Small leaves are grouped (several whole rows per block); a large leaf is cut along its
    pixels. Kernels reduce block by block, so temporaries stay small and cache-resident
    however large the leaf, and results of one leaf are merged across its blocks.
    ``limit`` defaults to :data:`PIECE_ELEMENTS`.
    """
    limit = PIECE_ELEMENTS if limit is None else max(1, limit)
    if n_pixels == 0 or n_leaves == 0:
        return [(slice(0, n_leaves), slice(0, n_pixels))]
    if n_pixels <= limit:
        step = max(1, limit // n_pixels)
        return [
            (slice(r, min(n_leaves, r + step)), slice(0, n_pixels))
            for r in range(0, n_leaves, step)
        ]
    return [
        (slice(r, r + 1), slice(c, min(n_pixels, c + limit)))
        for r in range(n_leaves)
        for c in range(0, n_pixels, limit)
    ]


def check_real(dtype: np.dtype) -> None:
    """Reject pixel types the statistics are not defined for (complex, strings, objects)."""
    if dtype.kind not in "biuf":
        raise TypeError(f"pixel type {dtype} is not supported (need bool, integer or float)")


class Workspace:
    """Scratch buffers reused across the pieces of one kernel call.

    Allocating and freeing a fresh half-megabyte temporary per piece makes the allocator hand
    memory back to the system and fault it in again, which costs more than the arithmetic;
    writing into the same buffers with ``out=`` avoids that.
    """

    def __init__(self) -> None:
        self._buffers: dict[tuple[str, str], np.ndarray] = {}

    def get(self, name: str, dtype: type | np.dtype, shape: tuple[int, ...]) -> np.ndarray:
        """A buffer of ``shape`` (contents undefined), reusing storage kept under ``name``."""
        size = 1
        for s in shape:
            size *= s
        key = (name, np.dtype(dtype).str)
        buf = self._buffers.get(key)
        if buf is None or buf.size < size:
            buf = np.empty(max(size, PIECE_ELEMENTS), dtype=dtype)
            self._buffers[key] = buf
        return buf[:size].reshape(shape)


_LOCAL = threading.local()


def thread_workspace(owner: str) -> Workspace:
    """This thread's :class:`Workspace` for ``owner`` (a kernel's name), kept between calls.

    A fresh workspace per image faults its buffers in from the system again for every small
    image, which cost raster-basic about a tenth of its time on 256x256 images. Buffers are
    bounded by the piece size, and their contents are undefined anyway, so keeping them
    changes no value. Threads of a worker each get their own.
    """
    spaces: dict[str, Workspace] | None = getattr(_LOCAL, "spaces", None)
    if spaces is None:
        spaces = _LOCAL.spaces = {}
    ws = spaces.get(owner)
    if ws is None:
        ws = spaces[owner] = Workspace()
    return ws
