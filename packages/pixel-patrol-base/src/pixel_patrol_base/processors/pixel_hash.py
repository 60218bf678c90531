"""``pixel-hash``: a 128-bit fingerprint of an image's decoded pixels (obs_level 0 only).

Two images get the same ``pixel_hash`` when they hold the same pixel values (bit for bit) of
the same type at the same coordinates, whatever format, compression, chunking, ``--slice-size``,
``--mb-per-task`` or worker count produced them; ``check`` uses it to find duplicates.

Definition. Each *line* of the image (the X axis together with any axis stored after it, e.g.
RGB samples) is read as little-endian bytes and cut into 64-bit words at multiples of 8 bytes
from the line's start (the last word padded with zeros). Each *line position* (the coordinates
on the other axes, taken by axis letter in T, C, Z, Y order, so storage order does not matter)
and each word position get pseudo-random odd 64-bit weights ``R`` and ``W`` (SplitMix64 of the
position). Lane 1 is ``Σ R[line] · Σ W[word] · word`` modulo 2**64; lane 2 is the same with
other weights over the byte-swapped words, so that differences confined to the high bits of
words (a float's sign, the last pixel of a word) are caught by the other lane's low bits.
Both lanes are sums over pixels' positions, so a memory chunk contributes its own part and the
parts add up in any order: the hash of a split image is exactly that of the whole. The two
lanes, the dtype and the image's extents are finally mixed with BLAKE2b into 16 bytes, written
as 32 hex digits.

Equal pixels always give equal hashes. For different pixels, a change of any single word is
always detected (odd weights are invertible modulo 2**64) and other differences collide with a
probability below 2**-58 (linear hashing over the 2-adic integers); the hash is not meant to
resist deliberate forgery. Cost: two integer dot products per 8 bytes of pixels, no copy when
lines are a whole number of words (benchmarks/hash_cost.py).
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa

from pixel_patrol_base.contracts import AXES, Agg, Column, ImageContext, Region

_MASK = (1 << 64) - 1
_WORDS_PER_STEP = 1 << 16
"""Words hashed per step: the byte-swapped copy stays in the CPU cache."""
_SEEDS = (0x243F6A8885A308D3, 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89)
"""Lane seeds (digits of pi): line weights of lanes 1 and 2, word weights of lanes 1 and 2."""
_CACHED_LINES = 1 << 14
"""Line weights of chunks with up to this many lines are kept for chunks of the same box."""


def splitmix64(x: np.ndarray, seed: int) -> np.ndarray:
    """SplitMix64 finaliser of ``x + seed`` (uint64, wrapping): a fixed pseudo-random map."""
    z = x.astype(np.uint64) + np.uint64(seed)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _odd_weights(positions: np.ndarray, seed: int) -> np.ndarray:
    return splitmix64(positions, seed) | np.uint64(1)


class PixelHash:
    """Memory processor: per-chunk lane sums, added up and mixed in :meth:`finish`."""

    NAME: ClassVar[str] = "pixel-hash"
    KIND: ClassVar[Literal["memory"]] = "memory"
    NEEDS_RANGE: ClassVar[bool] = False
    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column(
            "pixel_hash",
            pa.string(),
            "128-bit fingerprint of the decoded pixels (32 hex digits): equal pixels, equal hash.",
            Agg.FIRST,
        ),
    )

    def run(self, chunk: np.ndarray, region: Region, image: ImageContext) -> tuple[int, int]:
        """Lane sums of one chunk (``region`` = where it lies in the image)."""
        return lane_sums(np.asarray(chunk), region, image)

    def finish(self, partials: Sequence[Any], image: ImageContext) -> Mapping[str, Any]:
        """Add the chunks' lane sums and mix them with the dtype and extents."""
        lanes = [0, 0]
        for part in partials:
            if part is not None:
                lanes = [(a + b) & _MASK for a, b in zip(lanes, part, strict=True)]
        return {"pixel_hash": digest(lanes[0], lanes[1], image)}


def digest(lane1: int, lane2: int, image: ImageContext) -> str:
    """The 32-hex-digit hash from the two lane sums, the dtype and the extents by axis letter."""
    dtype = np.dtype(image.dtype)
    dims = dict(zip(image.dim_order, image.shape, strict=True))
    shape = ",".join(f"{a}={dims[a]}" for a in AXES if a in dims)
    h = hashlib.blake2b(digest_size=16)
    h.update(lane1.to_bytes(8, "little") + lane2.to_bytes(8, "little"))
    h.update(f"|{dtype.newbyteorder('<').str}|{shape}|{_line_axes(image.dim_order)}".encode())
    return h.hexdigest()


def _line_axes(dim_order: str) -> str:
    """X and the axes stored after it (RGB samples): one line of contiguous bytes."""
    x = dim_order.find("X")
    return dim_order[x:] if x >= 0 else dim_order[-1:]


def lane_sums(chunk: np.ndarray, region: Region, image: ImageContext) -> tuple[int, int]:
    """Both lane sums of the pixels of ``chunk``, placed at ``region`` in the image."""
    arr = _native(chunk)
    if arr.size == 0:
        return 0, 0
    n_line = len(_line_axes(image.dim_order))
    n_row = arr.ndim - n_line
    arr, x_bounds = _full_line_box(arr, region, image, n_row)
    rows = math.prod(arr.shape[:n_row])
    elem = arr.dtype.itemsize * math.prod(arr.shape[n_row + 1 :])
    start_byte, n_bytes = x_bounds[0] * elem, (x_bounds[1] - x_bounds[0]) * elem
    data = np.ascontiguousarray(arr).reshape(rows, n_bytes // arr.dtype.itemsize)
    first_word, pad = divmod(start_byte, 8)
    n_words = -(-(pad + n_bytes) // 8)
    w1, w2 = _word_weights(first_word, n_words)
    shape = tuple(int(n) for n in image.shape)
    weights = _line_weights if rows <= _CACHED_LINES else _line_weights.__wrapped__
    r1, r2 = weights(_box(region, shape), image.dim_order, shape, n_row)
    step = max(1, _WORDS_PER_STEP // n_words)
    total1 = total2 = np.zeros(1, dtype=np.uint64)
    for r in range(0, rows, step):
        words = _words(data[r : r + step], pad, n_bytes, n_words)
        total1 = total1 + (r1[r : r + step] * (words @ w1)).sum(dtype=np.uint64)
        total2 = total2 + (r2[r : r + step] * (words.byteswap() @ w2)).sum(dtype=np.uint64)
    return int(total1[0]), int(total2[0])


@functools.lru_cache(maxsize=64)
def _word_weights(first_word: int, n_words: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights of both lanes for words ``first_word ..`` of a line (read-only, cached: every
    image of one width uses the same)."""
    positions = np.arange(first_word, first_word + n_words, dtype=np.uint64)
    return _frozen(_odd_weights(positions, _SEEDS[2])), _frozen(_odd_weights(positions, _SEEDS[3]))


@functools.lru_cache(maxsize=64)
def _line_weights(
    box: tuple[tuple[int, int], ...], dim_order: str, shape: tuple[int, ...], n_row: int
) -> tuple[np.ndarray, np.ndarray]:
    """Weights of both lanes for the lines of a chunk at ``box`` (read-only, cached)."""
    region = tuple(slice(a, b) for a, b in box)
    keys = _row_keys(region, ImageContext(dim_order, shape, "uint8", None), n_row)
    return _frozen(_odd_weights(keys, _SEEDS[0])), _frozen(_odd_weights(keys, _SEEDS[1]))


def _box(region: Region, shape: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """``(start, stop)`` per axis of a region (hashable, unlike slices)."""
    return tuple(
        (s.start or 0, s.stop if s.stop is not None else int(n))
        for s, n in zip(region, shape, strict=True)
    )


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


def _native(chunk: np.ndarray) -> np.ndarray:
    """Little-endian pixels (bool as bytes) so the same values give the same bytes."""
    if chunk.dtype == np.bool_:
        return chunk.view(np.uint8)
    if chunk.dtype.byteorder == ">" or (chunk.dtype.byteorder == "=" and np.little_endian is False):
        return chunk.astype(chunk.dtype.newbyteorder("<"))
    return chunk


def _full_line_box(
    arr: np.ndarray, region: Region, image: ImageContext, n_row: int
) -> tuple[np.ndarray, tuple[int, int]]:
    """The chunk widened to whole extents on the axes after X (zeros where it has no pixels).

    The planner never splits RGB samples, so this copies only for unusual tilings; zeros add
    nothing to the lane sums, so the chunk still contributes exactly its own pixels.
    """
    bounds = [(s.start or 0, s.stop if s.stop is not None else n) for s, n in zip(region, image.shape, strict=True)]
    inner = bounds[n_row + 1 :]
    full = image.shape[n_row + 1 :]
    if all(a == 0 and b == n for (a, b), n in zip(inner, full, strict=True)):
        return arr, bounds[n_row]
    wide = np.zeros((*arr.shape[: n_row + 1], *full), dtype=arr.dtype)
    box: tuple[Any, ...] = (Ellipsis, *(slice(a, b) for a, b in inner))
    wide[box] = arr
    return wide, bounds[n_row]


def _row_keys(region: Region, image: ImageContext, n_row: int) -> np.ndarray:
    """Canonical index of each line of the chunk: coordinates by letter in T, C, Z, Y order."""
    letters = image.dim_order[:n_row]
    extents = dict(zip(letters, image.shape[:n_row], strict=True))
    stride, strides = 1, {}
    for a in reversed([a for a in AXES if a in extents]):
        strides[a] = stride
        stride *= extents[a]
    keys = np.zeros((), dtype=np.uint64)
    for i, a in enumerate(letters):
        s = region[i]
        start = s.start or 0
        stop = s.stop if s.stop is not None else image.shape[i]
        coord = np.arange(start, stop, dtype=np.uint64) * np.uint64(strides[a])
        keys = np.add.outer(keys, coord)
    return keys.reshape(-1)


def _words(block: np.ndarray, pad: int, n_bytes: int, n_words: int) -> np.ndarray:
    """Rows of ``block`` as uint64 words at their global byte offsets (a view when aligned)."""
    raw = block.view(np.uint8).reshape(len(block), n_bytes)
    if pad == 0 and n_bytes == 8 * n_words:
        return raw.view("<u8")
    buf = np.zeros((len(block), 8 * n_words), dtype=np.uint8)
    buf[:, pad : pad + n_bytes] = raw
    return buf.view("<u8")


__all__ = ["PixelHash"]
