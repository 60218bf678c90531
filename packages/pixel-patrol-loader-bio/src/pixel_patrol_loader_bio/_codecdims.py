"""Image size declared inside a compressed TIFF tile or strip, read from its header bytes.

Image codecs inside TIFF (JPEG, JPEG 2000, PNG, WebP) decode to the size their own header
states, whatever the tile size is: a 64×64 JPEG tile whose header says 60000×60000 makes the
decoder allocate 3.4 GB. Reading that size first (a few bytes) lets the reader refuse such a
tile as damaged instead. Formats not parsed here return ``None`` and are decoded as they are.
"""

from __future__ import annotations

JPEG = frozenset({6, 7, 33007, 34892})
JPEG2000 = frozenset({33003, 33004, 33005, 34712})
PNG = 34933
WEBP = 50001

_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
"""JPEG start-of-frame markers (DHT, JPG and DAC share the range)."""


def declared_size(compression: int, data: bytes) -> tuple[int, int] | None:
    """``(height, width)`` the codec header in ``data`` declares, or ``None`` if unknown."""
    try:
        if compression in JPEG:
            return _jpeg(data)
        if compression in JPEG2000:
            return _jpeg2000(data)
        if compression == PNG:
            return _png(data)
        if compression == WEBP:
            return _webp(data)
    except (IndexError, ValueError):
        return None
    return None


def _be(data: bytes, at: int, n: int) -> int:
    if at + n > len(data):
        raise IndexError(at)
    return int.from_bytes(data[at : at + n], "big")


def _jpeg(data: bytes) -> tuple[int, int] | None:
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):
            i += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no frame header before
            return None
        if marker in _SOF:
            height, width = _be(data, i + 5, 2), _be(data, i + 7, 2)
            return (height, width) if height else None  # 0: height given later (DNL)
        i += 2 + _be(data, i + 2, 2)
    return None


def _jpeg2000(data: bytes) -> tuple[int, int] | None:
    at = data.find(b"\xff\x4f\xff\x51", 0, 1 << 16)  # SOC then SIZ, also inside a JP2 box
    if at < 0:
        return None
    siz = at + 4
    x, y = _be(data, siz + 4, 4), _be(data, siz + 8, 4)
    x0, y0 = _be(data, siz + 12, 4), _be(data, siz + 16, 4)
    return max(y - y0, 0), max(x - x0, 0)


def _png(data: bytes) -> tuple[int, int] | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return _be(data, 20, 4), _be(data, 16, 4)


def _webp(data: bytes) -> tuple[int, int] | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width = int.from_bytes(data[26:28], "little") & 0x3FFF
        height = int.from_bytes(data[28:30], "little") & 0x3FFF
        return height, width
    if chunk == b"VP8L" and data[20:21] == b"\x2f":
        bits = int.from_bytes(data[21:25], "little")
        return ((bits >> 14) & 0x3FFF) + 1, (bits & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return height, width
    return None
