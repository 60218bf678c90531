"""Decoding TIFF images and regions so that memory stays bounded by the region.

A TIFF page is stored in strips or tiles, and a compressed one can only be decoded a whole
strip or tile at a time. How an image is read:

* **Uncompressed data** (each page stored contiguously, the common case for large microscopy
  stacks) is read straight from the file: only the bytes of the region, however large a strip
  is. No strip is decoded whole.
* **Regions of compressed pages** decode only the strips or tiles that intersect the region,
  one at a time, each copied into the output and dropped.
* **Whole images** of compressed pages go through tifffile's own reader (the planner only asks
  for whole images that fit the budget, and every strip or tile was checked to fit at opening).
  Pages compressed with an image codec (JPEG, JPEG 2000, PNG, WebP) are read piece by piece
  as regions are, because those codecs decode to the size their own header declares: a tile
  whose header claims more pixels than the tile holds is refused as damaged.

:func:`series_refusal` tells, when the file is opened, whether one strip or tile of an image
is larger than the memory budget (see :mod:`pixel_patrol_loader_bio._budget`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pixel_patrol_loader_bio._budget import Budget, piece_name
from pixel_patrol_loader_bio._codecdims import JPEG, declared_size

IMAGE_CODECS = frozenset(
    {6, 7, 22610, 33003, 33004, 33005, 33007, 34712, 34892, 34933, 34934, 48124, 50001, 50002, 52546}
)
"""TIFF compressions whose decoder sizes its output from its own header (tifffile's list)."""


def segment_shape(kf: Any) -> tuple[int, int, int, int]:
    """(depth, length, width, samples) of one strip or tile of keyframe ``kf``, as decoded."""
    spp = int(kf.samplesperpixel) if kf.planarconfig == 1 else 1
    if kf.is_tiled:
        return int(kf.tiledepth), int(kf.tilelength), int(kf.tilewidth), spp
    return 1, max(1, min(int(kf.rowsperstrip), int(kf.imagelength))), int(kf.imagewidth), spp


def segment_nbytes(kf: Any) -> int:
    """Bytes one strip or tile of ``kf`` decodes to."""
    itemsize = np.dtype(kf.dtype).itemsize if kf.dtype is not None else 1
    return math.prod(segment_shape(kf)) * itemsize


def series_refusal(series: Any, budget: Budget) -> str | None:
    """Why ``series`` cannot be read within ``budget`` (``None``: it can).

    Uncompressed contiguous pages are never refused: they are read region by region.
    """
    if budget.limit is None:
        return None
    kf = series.keyframe
    pages = _pages(series)
    if kf.is_final and all(_contiguous(p) for p in pages):
        return None
    piece = piece_name("tile" if kf.is_tiled else "strip", kf.compression)
    stored = max((int(max(p.databytecounts, default=0)) for p in pages), default=0)
    return budget.refusal(piece, segment_nbytes(kf)) or budget.refusal(
        piece, stored, "takes {size} in the file"
    )


def _pages(series: Any) -> list[Any]:
    """The pages a series reads (the first only, for a contiguous ImageJ-style stack)."""
    if series.dataoffset is not None and series.keyframe.is_final:
        return [series.keyframe]
    return [p for p in (series[i] for i in range(len(series))) if p is not None]


def _contiguous(page: Any) -> bool:
    """The page's strips follow each other in the file, so it can be read as one block."""
    offsets = np.asarray(page.dataoffsets, dtype=np.int64)
    counts = np.asarray(page.databytecounts, dtype=np.int64)
    if offsets.size <= 1:
        return offsets.size == 1
    return bool(np.all(offsets[:-1] + counts[:-1] == offsets[1:])) and int(
        counts.sum()
    ) == int(page.keyframe.nbytes)


def read_series(tf: Any, series: Any, raw: tuple[slice, ...] | None) -> np.ndarray:
    """Decode ``series`` (level 0), or only the box ``raw`` of it."""
    kf = series.keyframe
    if raw is None and kf.compression not in IMAGE_CODECS:
        return np.asarray(series.asarray())
    box = raw if raw is not None else tuple(slice(0, int(n)) for n in series.shape)
    if series.dataoffset is not None and kf.is_final:
        path = kf.parent.filehandle.path
        return read_contiguous(path, int(series.dataoffset), _file_dtype(kf), series.shape, box)
    n_lead = _lead_axes(series)
    if n_lead is None:
        return np.asarray(series.asarray()) if raw is None else _read_zarr(series, box)
    return _read_pages(series, n_lead, box)


def _file_dtype(kf: Any) -> np.dtype[Any]:
    result: np.dtype[Any] = np.dtype(kf.parent.byteorder + np.dtype(kf.dtype).char)
    return result


def _lead_axes(series: Any) -> int | None:
    """Number of axes before the page axes when each page is one plane of the series."""
    kf = series.keyframe
    n = len(series.shape) - len(kf.shape)
    if n < 0 or tuple(series.shape[n:]) != tuple(kf.shape) or _shaped_axes(kf) is None:
        return None
    if len(series) != math.prod(series.shape[:n]) or series.levels[0] is not series:
        return None
    return n


def _shaped_axes(kf: Any) -> list[int] | None:
    """Which axes of tifffile's 5-D page layout (separate samples, depth, length, width,
    contiguous samples) the page's own axes are, or ``None`` for a layout not handled here."""
    spp = int(kf.samplesperpixel)
    axes = [0] if spp > 1 and kf.planarconfig == 2 else []
    axes += [1] if int(kf.imagedepth) > 1 else []
    axes += [2, 3] + ([4] if spp > 1 and kf.planarconfig == 1 else [])
    if tuple(int(kf.shaped[i]) for i in axes) != tuple(kf.shape):
        return None
    return axes


def _read_pages(series: Any, n_lead: int, box: tuple[slice, ...]) -> np.ndarray:
    dtype = np.dtype(series.keyframe.dtype).newbyteorder("=")
    out = np.empty(tuple(s.stop - s.start for s in box), dtype=dtype)
    lead_shape = tuple(int(n) for n in series.shape[:n_lead])
    for idx in np.ndindex(*out.shape[:n_lead]):
        index = tuple(s.start + i for s, i in zip(box[:n_lead], idx, strict=True))
        k = int(np.ravel_multi_index(index, lead_shape)) if n_lead else 0
        page = series[k]
        if page is None:
            raise ValueError(f"plane {k} of the image is missing")
        _read_page(page, box[n_lead:], out[idx])
    return out


def _read_page(page: Any, box: tuple[slice, ...], out: np.ndarray) -> None:
    """Fill ``out`` with the box ``box`` (in the page's own axes) of one page."""
    kf = page.keyframe
    if kf.is_final and _contiguous(page):
        path = page.parent.filehandle.path
        out[...] = read_contiguous(path, int(page.dataoffsets[0]), _file_dtype(kf), kf.shape, box)
        return
    axes = _shaped_axes(kf)
    assert axes is not None
    box5 = [(0, int(n)) for n in kf.shaped]
    for j, ax in enumerate(axes):
        box5[ax] = (box[j].start, box[j].stop)
    _fill_from_segments(page, box5, out.reshape([b - a for a, b in box5]))


def _segment_indices(kf: Any, box5: list[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """(index, depth, row, column) origin of every strip or tile that intersects ``box5``."""
    sd, sl, sw, _ = segment_shape(kf)
    _, depth, length, width, _ = (int(n) for n in kf.shaped)
    nz, ny, nx = math.ceil(depth / sd), math.ceil(length / sl), math.ceil(width / sw)
    (s0, s1), (d0, d1), (y0, y1), (x0, x1), _ = box5
    return [
        (((s * nz + z) * ny + y) * nx + x, z * sd, y * sl, x * sw)
        for s in range(s0, s1)
        for z in range(d0 // sd, math.ceil(d1 / sd))
        for y in range(y0 // sl, math.ceil(y1 / sl))
        for x in range(x0 // sw, math.ceil(x1 / sw))
    ]


def _fill_from_segments(page: Any, box5: list[tuple[int, int]], out5: np.ndarray) -> None:
    """Decode the strips or tiles of ``page`` that meet ``box5``, one at a time, into ``out5``."""
    kf = page.keyframe
    args = {"jpegtables": page.jpegtables, "jpegheader": kf.jpegheader} if kf.compression in JPEG else {}
    _, sl, sw, _ = segment_shape(kf)
    for index, _z, _y, _x in _segment_indices(kf, box5):
        data = _segment_bytes(page, index)
        if data is None:
            arr, origin = None, _origin(kf, index)
        else:
            if kf.compression in IMAGE_CODECS:
                _check_declared_size(kf, data, sl, sw)
            arr, origin, _shape = kf.decode(data, index, **args)
        _place(arr, origin, segment_shape(kf), box5, out5, kf.nodata)


def _origin(kf: Any, index: int) -> tuple[int, ...]:
    """Position of segment ``index`` in the 5-D page layout (for empty segments)."""
    return tuple(kf.decode(None, index)[1])


def _segment_bytes(page: Any, index: int) -> bytes | None:
    """The stored bytes of one strip or tile; ``None`` for one the file leaves empty."""
    offset, count = int(page.dataoffsets[index]), int(page.databytecounts[index])
    if not offset or not count:
        return None
    fh = page.parent.filehandle
    if fh.closed:  # a page of another file of a multi-file OME-TIFF: tifffile closed it
        with open(fh.path, "rb") as raw:
            raw.seek(offset)
            data = raw.read(count)
    else:
        with fh.lock:
            fh.seek(offset)
            data = fh.read(count)
    if len(data) != count:
        raise ValueError(f"strip or tile {index} ends past the end of the file")
    return bytes(data)


def _check_declared_size(kf: Any, data: bytes, rows: int, cols: int) -> None:
    size = declared_size(int(kf.compression), data)
    if size is not None and (size[0] > rows or size[1] > cols):
        kind = "tile" if kf.is_tiled else "strip"
        raise ValueError(
            f"a {kind} declares {size[0]}×{size[1]} pixels in its codec header, more than the "
            f"{rows}×{cols} of a {kind}; the file is damaged"
        )


def _place(
    arr: np.ndarray | None,
    origin: tuple[int, ...],
    seg: tuple[int, int, int, int],
    box5: list[tuple[int, int]],
    out5: np.ndarray,
    fill: Any,
) -> None:
    """Copy the part of one decoded segment (or its fill value) that lies in ``box5``."""
    s, d, y, x = (int(v) for v in origin[:4])
    extent = arr.shape[:3] if arr is not None else seg[:3]
    dst: list[slice] = [slice(s - box5[0][0], s - box5[0][0] + 1)]
    src: list[slice] = []
    for start, n, (a, b) in zip((d, y, x), extent, box5[1:4], strict=True):
        lo, hi = max(start, a), min(start + int(n), b)
        if hi <= lo:
            return
        dst.append(slice(lo - a, hi - a))
        src.append(slice(lo - start, hi - start))
    c0, c1 = box5[4]
    dst.append(slice(None))
    if arr is None:
        out5[tuple(dst)] = fill
    else:
        out5[tuple(dst)] = arr[(*src, slice(c0, c1))][np.newaxis]


def read_contiguous(
    path: str, offset: int, dtype: np.dtype[Any], shape: tuple[int, ...], box: tuple[slice, ...]
) -> np.ndarray:
    """The box ``box`` of a C-ordered array of ``shape`` stored at ``offset`` in ``path``.

    Reads only the bytes of the box: one read per run of it that is contiguous in the file.
    """
    ext = [s.stop - s.start for s in box]
    out = np.empty(ext, dtype=dtype)
    if out.size == 0:
        return out
    j = len(shape) - 1
    while j > 0 and ext[j] == shape[j]:
        j -= 1
    strides = [math.prod(shape[i + 1 :]) for i in range(len(shape))]
    run = math.prod(ext[j:])
    rows = out.reshape(-1, run).view(np.uint8)
    with open(path, "rb") as fh:
        for n, idx in enumerate(np.ndindex(*ext[:j])):
            first = sum((box[i].start + k) * strides[i] for i, k in enumerate(idx))
            fh.seek(offset + dtype.itemsize * (first + box[j].start * strides[j]))
            if fh.readinto(rows[n]) != rows.shape[1]:
                raise ValueError("image data ends past the end of the file")
    return out


def _read_zarr(series: Any, box: tuple[slice, ...]) -> np.ndarray:
    """A region through tifffile's Zarr view, for page layouts not handled above."""
    import zarr

    store = series.aszarr(level=0)
    try:
        with zarr.config.set({"async.concurrency": 1}):
            return np.asarray(zarr.open_array(store, mode="r")[box])
    finally:
        store.close()
