"""Thumbnails for the page: which images get one, and their PNG data URIs.

The report stores each image's 64×64 RGBA preview as raw bytes. The page embeds at most
``max_thumbnails`` of them: first the files of the findings (taking one file of every finding
in turn, so each finding shows some), then a seeded random sample spread evenly over the
groups. Grey previews are stored as grey + alpha PNGs, which halves their size.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Sequence

import numpy as np

from pixel_patrol_base.html.frame import ReportFrame

SIZE = 64
SEED = 20240917


def png_bytes(rgba: np.ndarray) -> bytes:
    """A PNG file for an (h, w, 4) uint8 RGBA array (grey + alpha when every pixel is grey)."""
    h, w, _ = rgba.shape
    grey = bool(np.all(rgba[..., 0] == rgba[..., 1]) and np.all(rgba[..., 1] == rgba[..., 2]))
    pixels = rgba[..., [0, 3]] if grey else rgba
    colour_type = 4 if grey else 6
    raw = np.concatenate([np.zeros((h, 1), np.uint8), pixels.reshape(h, -1)], axis=1).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def data_uri(raw: bytes) -> str | None:
    """PNG data URI for one report thumbnail cell (None when the cell is not a 64×64 RGBA image)."""
    if raw is None or len(raw) != SIZE * SIZE * 4:
        return None
    rgba = np.frombuffer(raw, dtype=np.uint8).reshape(SIZE, SIZE, 4)
    return "data:image/png;base64," + base64.b64encode(png_bytes(rgba)).decode("ascii")


def choose(frame: ReportFrame, priority: Sequence[Sequence[int]], limit: int) -> list[int]:
    """Image indices to show: findings' images first (round robin), then a per-group sample."""
    if limit <= 0 or not frame.has("thumbnail"):
        return []
    has = np.ones(frame.n_images, dtype=bool)
    if frame.has("error"):
        # Failed images have no thumbnail.
        has = np.asarray(frame.images.column("error").is_null().to_numpy(zero_copy_only=False), dtype=bool)
    chosen: list[int] = []
    seen: set[int] = set()
    for i in _round_robin(priority):
        if len(chosen) >= limit:
            return chosen
        if 0 <= i < len(has) and has[i] and i not in seen:
            chosen.append(i)
            seen.add(i)
    return chosen + _sample(frame, has, seen, limit - len(chosen))


def _round_robin(lists: Sequence[Sequence[int]]) -> list[int]:
    out: list[int] = []
    depth = max((len(x) for x in lists), default=0)
    for k in range(depth):
        out.extend(x[k] for x in lists if k < len(x))
    return out


def _sample(frame: ReportFrame, has: np.ndarray, seen: set[int], need: int) -> list[int]:
    """``need`` images taken in turn from every group's seeded random order."""
    if need <= 0:
        return []
    rng = np.random.default_rng(SEED)
    pools: list[list[int]] = []
    for gi in range(len(frame.groups)):
        pool = rng.permutation(np.flatnonzero(has & (frame.image_group == gi)))
        pools.append([int(i) for i in pool[: need + len(seen)] if int(i) not in seen])
    out: list[int] = []
    depth = 0
    while len(out) < need and any(depth < len(p) for p in pools):
        out.extend(p[depth] for p in pools if depth < len(p))
        depth += 1
    return out[:need]


def encode(frame: ReportFrame, indices: Sequence[int]) -> dict[int, str]:
    """Image index → PNG data URI for the chosen images."""
    if not indices:
        return {}
    cells = frame.image_heavy("thumbnail", np.asarray(indices, dtype=np.int64)).to_pylist()
    out = {}
    for i, raw in zip(indices, cells, strict=True):
        uri = data_uri(raw)
        if uri is not None:
            out[int(i)] = uri
    return out
