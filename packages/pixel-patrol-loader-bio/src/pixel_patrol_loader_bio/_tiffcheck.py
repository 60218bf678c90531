"""Refusing TIFF files that cannot give every plane they declare.

tifffile is forgiving with damaged files, which is right for a viewer and wrong for a check:
an ImageJ hyperstack cut after its second plane falls back to a single 2-D page, an OME image
whose planes are gone is zero-filled, a plain multi-page file simply has fewer pages, and a
strip that ends past the end of the file may decode to grey. A report built on that shows a
smaller or different image and no error. This module compares what a file declares with what
it holds, before any pixel is decoded, and raises :class:`ImageReadError` naming both counts.

What declares planes, and what is checked:

- the page list: every page points to the next one; a pointer past the end of the file, or
  to a page that cannot be parsed, means pages were lost;
- the first page's tag values (where ImageJ, OME and tifffile keep their metadata) lie inside
  the file, so metadata was not cut off;
- ImageJ metadata and tifffile's own shape metadata: the number of planes, when tifffile had
  to give up that layout;
- OME-XML: the number of images, and every plane of each (also those in other files of a
  multi-file OME-TIFF);
- every strip or tile of every page that is read lies inside its file.

Only level 0 of each reported series is checked: reduced-resolution levels and preview
series are never read.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from pixel_patrol_base.errors import ImageReadError

READER = "tifffile"
FALLBACK_KINDS = frozenset({"generic", "uniform"})
"""Series kinds tifffile uses when a format's own layout was rejected."""


def check_complete(tf: Any, series: Sequence[Any], path: str, ome_count: int = 0) -> None:
    """Raise :class:`ImageReadError` when ``series`` of ``tf`` lack planes the file declares.

    ``ome_count`` is the number of images the file's OME-XML lists (0 without OME-XML).
    """
    problem = (
        _imagej_problem(tf)
        or _shaped_problem(tf)
        or _ome_problem(tf, ome_count)
        or next((p for p in map(_series_problem, series) if p), None)
        or _chain_problem(tf)
        or _first_page_problem(tf)
    )
    if problem:
        raise ImageReadError(path, f"incomplete file: {problem}", READER)


def _imagej_problem(tf: Any) -> str | None:
    """ImageJ metadata that tifffile had to give up (it then shows what it found instead)."""
    if not tf.is_imagej or not all(s.kind in FALLBACK_KINDS for s in tf.series):
        return None
    meta = tf.imagej_metadata or {}
    dims = [int(meta.get(k, 1) or 1) for k in ("frames", "slices", "channels")]
    declared = int(meta.get("images") or 0) or math.prod(dims)
    if declared <= 1:
        return None
    page = tf.pages.first
    if page.is_final and page.nbytes:
        readable = max(0, tf.filehandle.size - int(page.dataoffsets[0])) // int(page.nbytes)
    else:
        readable = sum(1 for p in tf.pages if _data_in_file(p))
    readable = min(readable, declared)
    return f"{readable} of {declared} planes readable (its ImageJ metadata declares {declared})"


def _shaped_problem(tf: Any) -> str | None:
    """Series smaller than tifffile's own shape metadata says (pages were lost)."""
    if not tf.is_shaped:
        return None
    series = tf.series
    plane = int(tf.pages.first.size) or 1
    for i, meta in enumerate(tf.shaped_metadata or ()):
        shape = meta.get("shape") if isinstance(meta, dict) else None
        if not shape:
            continue
        declared = math.prod(int(n) for n in shape)
        found = int(series[i].size) if i < len(series) else 0
        if found < declared:
            n = max(declared // plane, 1)
            readable = found // plane
            if len(series) == 1:  # tifffile may keep fewer pages than it found; count them
                readable = sum(1 for p in tf.pages if _data_in_file(p))
            return f"{min(readable, n)} of {n} planes readable (its shape metadata declares {n})"
    return None


def _ome_problem(tf: Any, ome_count: int) -> str | None:
    """OME images that tifffile could not make into series (their planes are all gone)."""
    found = sum(1 for s in tf.series if s.kind == "ome")
    if ome_count <= found:
        return None
    return f"{found} of {ome_count} images readable (its OME-XML declares {ome_count})"


def _series_problem(series: Any) -> str | None:
    """Planes of one series that are missing or whose data lies outside their file."""
    kf = series.keyframe
    plane = int(kf.size) or 1
    declared = max(int(series.size) // plane, 1)
    if series.dataoffset is not None:
        size = int(kf.parent.filehandle.size)
        end = int(series.dataoffset) + int(series.nbytes)
        if end <= size:
            return None
        readable = max(0, size - int(series.dataoffset)) // (int(kf.nbytes) or 1)
        return f"{min(readable, declared)} of {declared} planes readable (the file ends at byte {size}, its image data at byte {end})"
    readable = sum(1 for i in range(min(len(series), declared)) if _data_in_file(_page(series, i)))
    if readable >= declared:
        return None
    return f"{readable} of {declared} planes readable"


def _page(series: Any, index: int) -> Any:
    """Page ``index`` of a series, or ``None`` when it is missing or cannot be parsed."""
    try:
        return series[index]
    except Exception:  # noqa: BLE001 - any parse failure means the page is not readable
        return None


def _data_in_file(page: Any) -> bool:
    """Every strip or tile of ``page`` lies inside its file (empty tiles hold no data)."""
    if page is None:
        return False
    offsets = np.asarray(page.dataoffsets, dtype=np.int64)
    counts = np.asarray(page.databytecounts, dtype=np.int64)
    if offsets.size == 0 or offsets.size != counts.size:
        return False
    used = counts > 0
    size = int(page.parent.filehandle.size)
    return bool(np.all(offsets[used] + counts[used] <= size))


def _chain_problem(tf: Any) -> str | None:
    """The last page found still points to a further page: pages were lost."""
    if tf.is_lsm:  # LSM files over 4 GB wrap their page offsets; their layout is checked above
        return None
    pages = tf.pages
    count = len(pages)
    if count == 0:
        return None
    following = _next_page_offset(tf, int(pages[count - 1].offset))
    if following == 0:
        return None
    return (
        f"{count} page{'s' * (count != 1)} readable; the list of pages goes on past page "
        f"{count}, but the file ends or is damaged there"
    )


def _next_page_offset(tf: Any, ifd: int) -> int:
    """The next-page pointer stored after the page at ``ifd`` (-1 when it cannot be read)."""
    fmt = tf.tiff
    fh = tf.filehandle
    with fh.lock:
        fh.seek(ifd)
        raw = fh.read(fmt.tagnosize)
        if len(raw) != fmt.tagnosize:
            return -1
        tags = struct.unpack(fmt.tagnoformat, raw)[0]
        fh.seek(ifd + fmt.tagnosize + tags * fmt.tagsize)
        raw = fh.read(fmt.offsetsize)
    return int(struct.unpack(fmt.offsetformat, raw)[0]) if len(raw) == fmt.offsetsize else -1


def _first_page_problem(tf: Any) -> str | None:
    """A tag of the first page whose value lies past the end of the file (tifffile drops it)."""
    import tifffile

    fmt, fh = tf.tiff, tf.filehandle
    size = int(fh.size)
    ifd = int(tf.pages.first.offset)
    with fh.lock:
        fh.seek(ifd)
        tags = struct.unpack(fmt.tagnoformat, fh.read(fmt.tagnosize))[0]
        table = fh.read(tags * fmt.tagsize)
    entry = fmt.tagformat1 + fmt.tagformat2[1:]  # code, type, count, value or offset
    table = table[: len(table) - len(table) % fmt.tagsize]
    for code, dtype, count, value in struct.iter_unpack(entry, table):
        nbytes = int(count) * _ITEMSIZE.get(dtype, 0)
        if nbytes <= fmt.tagoffsetthreshold:
            continue
        start = int(struct.unpack(fmt.offsetformat, value)[0])
        if start + nbytes > size:
            name = tifffile.TIFF.TAGS.get(code, str(code))
            return f"the value of tag {name} of the first page lies past the end of the file"
    return None


def _itemsizes() -> dict[int, int]:
    import tifffile

    return {k: struct.calcsize("<" + v) for k, v in tifffile.TIFF.DATA_FORMATS.items()}


_ITEMSIZE = _itemsizes()
"""Bytes per value of each TIFF tag data type (unknown types are skipped)."""
