"""Zero-padded flat layout of a batch of planes, shared by every filter and stencil.

Planes are stored one after the other in a flat float32 buffer, each row followed by at
least ``PAD`` zero columns and each plane followed by ``PAD`` zero rows (with ``PAD`` zero
rows before the first plane). In this layout a shift by ``d`` elements is a shift by ``d`` columns and a shift
by ``d * stride`` elements one by ``d`` rows, and for ``|d| <= PAD`` both only ever bring in
zeros from outside the plane. So every filter and stencil is a handful of whole-buffer numpy
operations on contiguous 1-D slices (the fastest thing numpy does), with zero padding for free.

Why this also makes results independent of batching: a plane occupies the same block of
memory layout (same row stride, same padding) whatever other planes share the buffer, every
element is computed from its own plane only, and every reduction runs over one plane's rows
in a fixed order. A plane's value is therefore bit-identical in a batch of one or of many.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PAD = 3
"""Zero rows and columns around each plane: the largest filter radius used (7-tap windows)."""

ALIGN = 8
"""Row stride granularity in elements (32 bytes of float32)."""


@dataclass(frozen=True, slots=True)
class PlaneMap:
    """Some planes of a padded buffer, seen two ways.

    Element-wise work goes on ``blocks`` (contiguous, padding included: numpy runs a strided
    3-D view about three times slower); reductions go over ``pixels``, a view of the same
    memory without the padding.

    Attributes
    ----------
    blocks
        ``(b, block)`` contiguous view; per-plane ``(b, 1)`` scalars broadcast against it.
    pixels
        ``(b, H', W')`` view of the plane pixels inside ``blocks`` (maybe minus a margin).
    """

    blocks: np.ndarray
    pixels: np.ndarray


@dataclass(frozen=True, slots=True)
class Layout:
    """Geometry of ``planes`` planes of ``height x width`` in a padded flat buffer.

    Attributes
    ----------
    planes, height, width
        Number and size of the planes.
    stride
        Elements per stored row: the plane row plus at least ``PAD`` zero columns, rounded up
        to a multiple of ``ALIGN`` so that row shifts keep 32-byte alignment (the Y pass of
        the filters is about 12 % faster than with an odd stride).
    block
        Elements per plane: its rows plus the ``PAD`` zero rows after it.
    lead
        Offset of the first plane (``PAD`` zero rows come first).
    size
        Length of the flat buffer.
    """

    planes: int
    height: int
    width: int
    stride: int = field(init=False)
    block: int = field(init=False)
    lead: int = field(init=False)
    size: int = field(init=False)

    def __post_init__(self) -> None:
        """Derive the sizes once: kernels read them dozens of times per batch."""
        stride = -(-(self.width + PAD) // ALIGN) * ALIGN
        block = (self.height + PAD) * stride
        object.__setattr__(self, "stride", stride)
        object.__setattr__(self, "block", block)
        object.__setattr__(self, "lead", PAD * stride)
        object.__setattr__(self, "size", PAD * stride + self.planes * block)

    def with_planes(self, planes: int) -> Layout:
        """The same plane geometry for another number of planes."""
        return Layout(planes, self.height, self.width)

    def blocks(self, buf: np.ndarray, first: int = 0, count: int | None = None) -> np.ndarray:
        """``(count, block)`` view of planes ``first .. first + count`` (with their padding).

        Per-plane scalars of shape ``(count, 1)`` broadcast against it.
        """
        count = self.planes - first if count is None else count
        start = self.lead + first * self.block
        return buf[start : start + count * self.block].reshape(count, self.block)

    def grid(self, buf: np.ndarray, first: int = 0, count: int | None = None) -> np.ndarray:
        """``(count, height + PAD, stride)`` view of planes with their padding."""
        return self.blocks(buf, first, count).reshape(-1, self.height + PAD, self.stride)

    def interior(
        self, buf: np.ndarray, first: int = 0, count: int | None = None, margin: int = 0
    ) -> np.ndarray:
        """``(count, height - 2 margin, width - 2 margin)`` view of the pixels of the planes."""
        g = self.grid(buf, first, count)
        return g[:, margin : self.height - margin, margin : self.width - margin]

    def map(self, buf: np.ndarray, first: int, count: int, margin: int = 0) -> PlaneMap:
        """Planes ``first .. first + count`` of ``buf`` as a :class:`PlaneMap`."""
        return PlaneMap(self.blocks(buf, first, count), self.interior(buf, first, count, margin))

    def clear_padding(self, buf: np.ndarray) -> None:
        """Set every padding element of ``buf`` to 0 (workspace buffers are reused)."""
        buf[: self.lead] = 0.0
        g = self.grid(buf)
        g[:, self.height :, :] = 0.0
        g[:, : self.height, self.width :] = 0.0
