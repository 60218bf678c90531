"""``thumbnail``: a 64×64 RGBA preview of each image (obs_level 0 only).

Encoding: ``thumbnail`` holds 16384 raw bytes, a row-major ``(64, 64, 4)`` uint8 RGBA array
(decode with ``numpy.frombuffer(b, numpy.uint8).reshape(64, 64, 4)``). The image keeps its
aspect ratio and is centred; padding has alpha 0.

Which pixels: the middle index (``extent // 2``) of Z, T and C; an S axis of 3 or 4 samples is
shown as colour (first three samples, any alpha sample ignored), any other S size shows its
first sample as grey. Each output pixel takes the source pixel under its centre (nearest
neighbour at global image coordinates), so a memory chunk contributes exactly the samples that
lie inside it and the result does not depend on how the image was split.

Scaling: ``byte = round(255 * (v - norm_min) / (norm_max - norm_min))`` where norm_min/max are
the finite min/max of the sampled values (all colour samples together), computed from exact
differences of the sampled values (64-bit integers beyond 2**53, values near the float limits
and subnormals scale correctly); -Inf maps to 0, +Inf to 255, NaN to a transparent pixel. A
constant image maps to 128. ``v ≈ norm_min + byte / 255 *
(norm_max - norm_min)`` recovers the intensity.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa

from pixel_patrol_base.contracts import Agg, Column, ImageContext, Region

SIZE = 64
COLOUR_SAMPLES = (3, 4)


@dataclass(frozen=True, slots=True)
class ThumbnailLayout:
    """Where each thumbnail pixel comes from in the image (pure geometry)."""

    rows: np.ndarray
    """Source Y index of thumbnail rows ``y0 .. y0 + len(rows) - 1``."""
    cols: np.ndarray
    """Source X index of thumbnail columns ``x0 .. x0 + len(cols) - 1``."""
    y0: int
    x0: int
    picks: dict[str, int]
    """Fixed index for every non-plane axis that is not shown as colour."""
    colour: bool

    @classmethod
    def of(cls, image: ImageContext) -> ThumbnailLayout:
        """Layout for the image described by ``image`` (shared by images of one geometry:
        treat its arrays as read-only)."""
        return _layout(image.dim_order, tuple(int(n) for n in image.shape))

    @classmethod
    def build(cls, dim_order: str, shape: tuple[int, ...]) -> ThumbnailLayout:
        """Layout for an image of ``shape`` with axes ``dim_order``."""
        dims = dict(zip(dim_order, shape, strict=True))
        height, width = dims.get("Y", 1), dims.get("X", 1)
        longest = max(height, width)
        h = max(1, (2 * SIZE * height + longest) // (2 * longest))
        w = max(1, (2 * SIZE * width + longest) // (2 * longest))
        colour = dims.get("S", 1) in COLOUR_SAMPLES
        picks = {a: (0 if a == "S" else n // 2) for a, n in dims.items() if a not in "YX"}
        if colour:
            del picks["S"]
        return cls(
            rows=(2 * np.arange(h) + 1) * height // (2 * h),
            cols=(2 * np.arange(w) + 1) * width // (2 * w),
            y0=(SIZE - h) // 2,
            x0=(SIZE - w) // 2,
            picks=picks,
            colour=colour,
        )


@functools.lru_cache(maxsize=64)
def _layout(dim_order: str, shape: tuple[int, ...]) -> ThumbnailLayout:
    """Layouts of recent image geometries: a folder of images of one size computes it once."""
    layout = ThumbnailLayout.build(dim_order, shape)
    layout.rows.setflags(write=False)
    layout.cols.setflags(write=False)
    return layout


@dataclass(frozen=True, slots=True)
class ThumbnailPart:
    """Samples one chunk contributes: thumbnail rows, columns, colour channels and values."""

    rows: np.ndarray
    cols: np.ndarray
    channels: np.ndarray
    values: np.ndarray


class Thumbnail:
    """Memory processor producing the preview image and its normalisation."""

    NAME: ClassVar[str] = "thumbnail"
    KIND: ClassVar[Literal["memory"]] = "memory"
    NEEDS_RANGE: ClassVar[bool] = False
    LIBRARIES: ClassVar[tuple[str, ...]] = ("numpy",)
    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column(
            "thumbnail",
            pa.binary(),
            "64x64 RGBA preview: 16384 raw row-major uint8 bytes; padding has alpha 0.",
            Agg.FIRST,
        ),
        Column(
            "thumbnail_norm_min",
            pa.float64(),
            "Intensity shown as byte 0 (finite minimum of the sampled pixels).",
            Agg.FIRST,
        ),
        Column(
            "thumbnail_norm_max",
            pa.float64(),
            "Intensity shown as byte 255 (finite maximum of the sampled pixels).",
            Agg.FIRST,
        ),
        Column("thumbnail_dtype", pa.string(), "NumPy name of the source pixel type.", Agg.FIRST),
    )

    def run(self, chunk: np.ndarray, region: Region, image: ImageContext) -> ThumbnailPart | None:
        """Samples of the thumbnail grid that fall inside ``chunk`` (``None`` if there are none)."""
        shape = tuple(int(n) for n in image.shape)
        box = tuple(_bounds(region, shape))
        sampling = _sampling(image.dim_order, shape, box)
        if sampling is None:
            return None
        bounds = dict(zip(image.dim_order, box, strict=True))
        plane = _plane(chunk, image.dim_order, bounds, ThumbnailLayout.of(image))
        values = plane.take(sampling.ys, axis=0).take(sampling.xs, axis=1)  # = plane[ix_(ys, xs)]
        return ThumbnailPart(sampling.rows, sampling.cols, sampling.channels, values)

    def finish(self, partials: Sequence[Any], image: ImageContext) -> Mapping[str, Any]:
        """Assemble the samples of all chunks, normalise and encode."""
        parts = [p for p in partials if p is not None]
        channels = 3 if ThumbnailLayout.of(image).colour else 1
        canvas = np.zeros((SIZE, SIZE, channels), dtype=np.dtype(image.dtype))
        filled = np.zeros((SIZE, SIZE, channels), dtype=bool)
        covered = np.zeros((SIZE, SIZE), dtype=bool)
        for p in parts:
            samples, pixels = _where(p)
            canvas[samples] = p.values
            filled[samples] = True
            covered[pixels] = True
        lo, hi = _finite_bounds([p.values for p in parts])
        levels = scaled_levels(canvas, filled, lo, hi)
        return {
            "thumbnail": encode_rgba(levels, covered),
            "thumbnail_norm_min": None if lo is None else float(lo),
            "thumbnail_norm_max": None if hi is None else float(hi),
            "thumbnail_dtype": _dtype_name(str(image.dtype)),
        }


@dataclass(frozen=True, slots=True)
class _Sampling:
    """Which samples of the grid a chunk holds: source rows and columns inside the chunk
    (``ys``, ``xs``), their thumbnail rows and columns, and the colour channels."""

    ys: np.ndarray
    xs: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    channels: np.ndarray


@functools.lru_cache(maxsize=256)
def _sampling(
    dim_order: str, shape: tuple[int, ...], box: tuple[tuple[int, int], ...]
) -> _Sampling | None:
    """The samples of the chunk at ``box`` (``None`` if it holds none); pure geometry, so
    computed once for the chunks of images of one geometry (arrays read-only)."""
    layout = _layout(dim_order, shape)
    bounds = dict(zip(dim_order, box, strict=True))
    if any(not bounds[a][0] <= i < bounds[a][1] for a, i in layout.picks.items()):
        return None
    ry, rx = _inside(layout.rows, bounds.get("Y")), _inside(layout.cols, bounds.get("X"))
    if not (ry.any() and rx.any()):
        return None
    channels = _channels(bounds.get("S") if layout.colour else None)
    if channels.size == 0:
        return None
    ys = layout.rows[ry] - bounds.get("Y", (0, 0))[0]
    xs = layout.cols[rx] - bounds.get("X", (0, 0))[0]
    rows, cols = np.flatnonzero(ry) + layout.y0, np.flatnonzero(rx) + layout.x0
    for arr in (ys, xs, rows, cols, channels):
        arr.setflags(write=False)
    return _Sampling(ys, xs, rows, cols, channels)


@functools.lru_cache(maxsize=64)
def _dtype_name(dtype: str) -> str:
    return str(np.dtype(dtype))


def _bounds(region: Region, shape: Sequence[int]) -> list[tuple[int, int]]:
    return [sl.indices(int(n))[:2] for sl, n in zip(region, shape, strict=True)]


def _inside(src: np.ndarray, bound: tuple[int, int] | None) -> np.ndarray:
    if bound is None:
        return np.ones(len(src), dtype=bool)
    return (src >= bound[0]) & (src < bound[1])


def _channels(bound: tuple[int, int] | None) -> np.ndarray:
    """Colour channels (of the first three samples) inside the chunk; ``[0]`` for grey."""
    if bound is None:
        return np.zeros(1, dtype=np.intp)
    return np.arange(max(bound[0], 0), min(bound[1], 3), dtype=np.intp)


def _plane(
    chunk: np.ndarray, dim_order: str, bounds: dict[str, tuple[int, int]], layout: ThumbnailLayout
) -> np.ndarray:
    """The chunk reduced to ``(Y, X, k)``: fixed indices taken, colour axis kept (first 3)."""
    index: list[Any] = []
    kept = []
    for axis in dim_order:
        if axis in layout.picks:
            index.append(layout.picks[axis] - bounds[axis][0])
        else:
            index.append(slice(0, 3 - bounds[axis][0]) if axis == "S" else slice(None))
            kept.append(axis)
    plane = chunk[tuple(index)].transpose([kept.index(a) for a in "YXS" if a in kept])
    for position, axis in enumerate("YXS"):
        if axis not in kept:
            plane = np.expand_dims(plane, position)
    result: np.ndarray = plane
    return result


def _where(part: ThumbnailPart) -> tuple[Any, Any]:
    """Indices of a part's samples in the canvas ``(Y, X, channel)`` and of its pixels in
    ``(Y, X)``: slices when its rows and columns are runs, as a chunk's always are (cheaper
    to assign through than index arrays), ``numpy.ix_`` otherwise."""
    rows, cols, chans = part.rows, part.cols, part.channels
    runs = all(len(i) and int(i[-1]) - int(i[0]) == len(i) - 1 for i in (rows, cols, chans))
    if not runs:
        return np.ix_(rows, cols, chans), np.ix_(rows, cols)
    ys, xs = slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)
    return (ys, xs, slice(int(chans[0]), int(chans[-1]) + 1)), (ys, xs)


def _finite_bounds(values: Sequence[np.ndarray]) -> tuple[Any, Any]:
    """Finite minimum and maximum of the shown samples (the chunks' sampled values, which
    never overlap), in the pixel type (``None`` if none)."""
    shown = values[0].reshape(-1) if len(values) == 1 else np.concatenate([v.reshape(-1) for v in values])
    finite = shown[np.isfinite(shown)] if shown.dtype.kind == "f" else shown
    if finite.size == 0:
        return None, None
    return finite.min(), finite.max()


def scaled_levels(canvas: np.ndarray, filled: np.ndarray, lo: Any, hi: Any) -> np.ndarray:
    """Byte level (float64, before rounding) of every sample; NaN where nothing is shown.

    ``255 * (v - lo) / (hi - lo)`` from exact differences: 64-bit integers subtract in integer
    arithmetic, floats in a power-of-two frame (no overflow near the float64 limits, no lost
    bits for subnormals). -Inf gives 0, +Inf 255; a constant image gives 128.
    """
    v = canvas
    narrow = v.dtype.kind in "iu" and v.dtype.itemsize < 8
    if narrow and lo is not None and hi is not None and hi > lo:
        return _narrow_levels(v, filled, float(lo), float(hi))
    if v.dtype == np.bool_:
        v, lo, hi = v.view(np.uint8), None if lo is None else np.uint8(lo), None if hi is None else np.uint8(hi)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if lo is None or hi is None:
            level = np.where(v > 0, 255.0, 0.0)
        elif hi > lo:
            frame = _frame(v.dtype, lo, hi)
            level = _difference(v, lo, frame) / _difference(np.asarray(hi), lo, frame) * 255.0
        else:
            level = np.where(v > lo, 255.0, np.where(v < lo, 0.0, 128.0))
        level = np.where(filled, level, np.nan)
        if v.dtype.kind == "f":
            level = np.where(np.isnan(v), np.nan, level)
    return level


def _narrow_levels(v: np.ndarray, filled: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """:func:`scaled_levels` of integers up to 32 bits (exact in float64): the same operations
    in the same order, in place on one buffer."""
    level = v.astype(np.float64)
    level -= lo
    level /= np.float64(hi) - lo
    level *= 255.0
    if not filled.all():
        level[~filled] = np.nan
    return level


def _frame(dtype: np.dtype, lo: Any, hi: Any) -> int:
    """Power of two bringing the largest finite magnitude of a float image near 1."""
    if dtype.kind != "f":
        return 0
    big = max(abs(float(lo)), abs(float(hi)))
    return -math.frexp(big)[1] if big > 0 else 0


def _difference(v: np.ndarray, lo: Any, frame: int) -> np.ndarray:
    """``(v - lo) * 2**frame`` as float64, exact for 64-bit integers."""
    if v.dtype.kind in "iu" and v.dtype.itemsize == 8:
        ref = np.asarray(lo, dtype=v.dtype)
        up = (v.astype(np.uint64) - ref.astype(np.uint64)).astype(np.float64)
        down = (ref.astype(np.uint64) - v.astype(np.uint64)).astype(np.float64)
        return np.where(v >= ref, up, -down)
    if v.dtype.kind != "f":
        return v.astype(np.float64) - float(lo)
    return np.ldexp(v.astype(np.float64), frame) - math.ldexp(float(lo), frame)


def encode_rgba(levels: np.ndarray, covered: np.ndarray) -> bytes:
    """Round byte levels and pack ``(64, 64, 4)`` RGBA (alpha 0 where nothing is shown).

    Each pixel is assembled as one little-endian 32-bit word (R | G << 8 | B << 16 | A << 24):
    a handful of whole-array operations instead of strided writes into every byte lane.
    """
    nan = np.isnan(levels)
    rounded = levels + 0.5
    np.floor(rounded, out=rounded)  # NaN stays NaN (quietly); ±Inf is clipped to 0 / 255
    np.maximum(rounded, 0.0, out=rounded)
    np.minimum(rounded, 255.0, out=rounded)
    if nan.any():
        rounded[nan] = 0.0
    level = rounded.astype(np.uint32)
    word: np.ndarray
    if level.shape[2] == 3:
        word = level[..., 0] | (level[..., 1] << 8) | (level[..., 2] << 16)
    else:
        word = level[..., 0] * np.uint32(0x010101)
    shown = covered & ~(nan.all(axis=2) if nan.shape[2] > 1 else nan[..., 0])
    word |= shown.astype(np.uint32) * np.uint32(0xFF000000)
    return word.astype("<u4", copy=False).tobytes()


__all__ = ["Thumbnail"]
