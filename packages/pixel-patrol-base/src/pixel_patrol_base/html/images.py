"""The per-image numbers the page needs (table, mosaic, hovers), packed compactly.

One gzip-compressed payload: a 4-byte length, a JSON header (column names, kinds, text values)
and the columns as little-endian typed arrays (float32 for measurements, float64 for counts,
sizes and dates, int32 codes for text). The browser unpacks it with ``DecompressionStream``,
so 100,000 images cost a few megabytes instead of tens.
"""

from __future__ import annotations

import base64
import gzip
import json
import struct
from pathlib import PurePath
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pixel_patrol_base.html.frame import ReportFrame, numeric
from pixel_patrol_base.html.metrics import metric_columns

TEXT_COLUMNS = ("file_name", "child_id", "file_extension", "dtype", "dim_order", "pixel_size_unit", "channel_names", "error")
EXACT_COLUMNS = (
    "file_size", "modification_date", "X_size", "Y_size", "Z_size", "C_size", "T_size", "S_size",
    "significant_bits", "pixel_size_X", "pixel_size_Y", "pixel_size_Z",
)


def _text(col: pa.ChunkedArray) -> tuple[list[str], np.ndarray]:
    dense = col.combine_chunks()
    if pa.types.is_list(dense.type):
        dense = pa.array([None if v is None else ", ".join(map(str, v)) for v in dense.to_pylist()], pa.string())
    if not (pa.types.is_string(dense.type) or pa.types.is_large_string(dense.type)):
        dense = pc.cast(dense, pa.string())
    enc = pc.dictionary_encode(dense)
    codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32)
    return [str(v) for v in enc.dictionary.to_pylist()], codes


def _folders(frame: ReportFrame) -> tuple[list[str], np.ndarray]:
    """Each image's folder (its path without the file name), dictionary-encoded."""
    paths = frame.images.column("imported_path").to_pylist()
    names = frame.images.column("file_name").to_pylist() if frame.has("file_name") else [None] * len(paths)
    folders = []
    for p, n in zip(paths, names, strict=True):
        if p is None:
            folders.append("")
        elif n and p.endswith(n):
            folders.append(p[: len(p) - len(n)])
        else:
            folders.append(str(PurePath(p).parent) + "/")
    return _text(pa.chunked_array([pa.array(folders, pa.string())]))


def columns_for(frame: ReportFrame) -> tuple[list[str], list[str], list[str]]:
    """(text, exact numeric, measured numeric) image columns present in the report."""
    text = [c for c in TEXT_COLUMNS if frame.has(c)]
    exact = [c for c in EXACT_COLUMNS if frame.has(c)]
    measured = [c for c in metric_columns(frame.table.schema) if c not in exact]
    return text, exact, measured


def pack(frame: ReportFrame, findings_of_image: list[list[int]], groupings: dict[str, np.ndarray] | None = None) -> str:
    """The base64 payload of every image row (see module docstring).

    ``groupings`` maps each grouping column the page offers to the images' group codes
    (default: the frame's own); they are stored as ``group:<column>``.
    """
    header: dict[str, Any] = {"n": frame.n_images, "columns": []}
    buffers: list[bytes] = []
    offset = 0

    def add(name: str, kind: str, arr: np.ndarray, **extra: Any) -> None:
        nonlocal offset
        data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header["columns"].append({"name": name, "kind": kind, "type": arr.dtype.str[1:], "offset": offset, **extra})
        pad = (-len(data)) % 8
        buffers.append(data + b"\0" * pad)
        offset += len(data) + pad

    for name, codes in (groupings or {frame.group_by: frame.image_group}).items():
        add(f"group:{name}", "group", np.asarray(codes).astype(np.int32))
    if frame.has("imported_path"):
        values, codes = _folders(frame)
        add("folder", "text", codes, values=values)
    text, exact, measured = columns_for(frame)
    for name in text:
        values, codes = _text(frame.images.column(name))
        add(name, "text", codes, values=values)
    for name in exact:
        add(name, "number", numeric(frame.images.column(name)), description=frame.describe(name))
    for name in measured:
        add(name, "number", numeric(frame.images.column(name)).astype(np.float32), description=frame.describe(name))
    add("findings", "list", _lists(findings_of_image))
    head = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode()
    head += b" " * ((-len(head) - 4) % 8)
    blob = struct.pack("<I", len(head)) + head + b"".join(buffers)
    return base64.b64encode(gzip.compress(blob, compresslevel=6, mtime=0)).decode("ascii")


def _lists(lists: list[list[int]]) -> np.ndarray:
    """Variable-length int lists as one int32 array: n+1 offsets followed by the values."""
    starts = np.zeros(len(lists) + 1, dtype=np.int64)
    starts[1:] = np.cumsum([len(x) for x in lists])
    flat = np.fromiter((v for x in lists for v in x), dtype=np.int32, count=int(starts[-1]))
    return np.concatenate([starts.astype(np.int32), flat])
