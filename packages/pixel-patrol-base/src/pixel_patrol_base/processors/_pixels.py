"""Helpers shared by the built-in leaf kernels: flat views and bounded pixel pieces."""

from __future__ import annotations

import numpy as np

MAX_ELEMENTS = 1 << 22
"""Pixels handled per vectorised step; bounds float64 temporaries to about 32 MB."""


def flat_leaves(data: np.ndarray) -> np.ndarray:
    """View a leaf stack ``(n, *leaf_shape)`` as ``(n, pixels)`` (copies only if not contiguous)."""
    return data.reshape(len(data), -1)


def pixel_slices(n_leaves: int, n_pixels: int, limit: int | None = None) -> list[slice]:
    """Split the pixel axis so that one piece of all leaves holds at most ``limit`` values.

    Kernels work piece by piece so that a single huge leaf (a whole large plane) never needs
    temporaries several times its own size. ``limit`` defaults to :data:`MAX_ELEMENTS`.
    """
    width = max(1, (MAX_ELEMENTS if limit is None else limit) // max(n_leaves, 1))
    if n_pixels == 0:
        return [slice(0, 0)]
    return [slice(i, min(n_pixels, i + width)) for i in range(0, n_pixels, width)]


def check_real(dtype: np.dtype) -> None:
    """Reject pixel types the statistics are not defined for (complex, strings, objects)."""
    if dtype.kind not in "biuf":
        raise TypeError(f"pixel type {dtype} is not supported (need bool, integer or float)")
