"""Checking a compressed Zarr chunk against the size it must decode to, before decoding it.

Two reasons. Blosc 1 decodes as many bytes as the 16-byte header of a chunk says the chunk
holds, not as many as the buffer it is handed: a chunk file cut short is decoded from whatever
lies after it in memory, and when that memory still holds the rest of the chunk (a whole copy
just freed) the damaged chunk reads back as plausible pixels. And zarr's codecs decompress a
whole chunk before anything compares its size with the array's chunk size: a chunk of a few
kilobytes that inflates to gigabytes is allocated in full.

So a chunk's bytes are held against what its codec's framing says and against the size an
intact chunk decodes to (its shape times its item size) before the codec runs. Headers are
read, never the data: Blosc's header, Zstandard's frame header, LZ4's size prefix. Where the
framing cannot bound the output (gzip, zlib, a Zstandard frame without a content size) the
chunk is decoded here with the output limited to that size, which is the one decoding the
chunk gets, not a second one. Anything else a chunk's bytes may be (other codecs) is decoded
by its codec as before.

The functions here know nothing of zarr; :mod:`pixel_patrol_loader_bio._zarrguard` feeds them.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

BLOSC_HEADER = 16
BLOSC_FIELDS = struct.Struct("<BBBBIII")
"""Version, compressor version, flags, type size, decoded size, block size, stored size."""
BLOSC_MEMCPYED = 0x02
BLOSC_CODECS = 5
"""Blosc 1 compressor codes: blosclz, lz4/lz4hc, snappy, zlib, zstd."""
ZSTD_MAGIC = 0xFD2FB528
ZSTD_START = struct.Struct("<IB")
"""Frame magic number and frame header descriptor."""
ZSTD_FCS = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}
ZSTD_BLOCK_MAX = 2**17
ZLIB_WBITS = {"zlib": zlib.MAX_WBITS, "gzip": 16 + zlib.MAX_WBITS}
BOUND_FACTOR = 16
BOUND_FLOOR = 2**16


class ChunkError(Exception):
    """A chunk's bytes are not what its array declares; the text names the chunk."""


class ChunkProblem(Exception):
    """What is wrong with a chunk, as the end of a sentence (``"is cut short: ..."``)."""


@dataclass(frozen=True, slots=True)
class Expect:
    """The bytes a chunk decodes to: exactly ``size`` (``exact``) or at most ``size``."""

    size: int
    exact: bool

    @classmethod
    def around(cls, nbytes: int) -> Expect:
        """A limit for a chunk of unknown size that stands for ``nbytes`` of pixels.

        Used where filters or a further codec lie between this codec and the pixels (they may
        change the size); it bounds memory without refusing any size a filter produces.
        """
        return cls(max(BOUND_FACTOR * nbytes, BOUND_FLOOR), False)

    def refusal(self, what: str, nbytes: int) -> str | None:
        """Why ``nbytes`` of decoded output cannot be this chunk (``None``: it can)."""
        if nbytes == self.size or (not self.exact and nbytes < self.size):
            return None
        holds = "holds" if self.exact else "holds at most"
        return f"is damaged: {what} {nbytes} bytes, a chunk of this array {holds} {self.size}"


def _u32(data: Any, at: int) -> int:
    return int(struct.unpack_from("<I", data, at)[0])


def blosc_problem(data: Any, size: int, exact: bool) -> str | None:
    """What is wrong with a Blosc 1 chunk's header given its stored bytes (``None``: nothing)."""
    n = len(data)
    if n < BLOSC_HEADER:
        return f"is cut short: {n} bytes, less than a Blosc header ({BLOSC_HEADER})"
    version, _, flags, typesize, nbytes, blocksize, cbytes = BLOSC_FIELDS.unpack_from(data)
    if version not in (1, 2):
        return f"is damaged: Blosc header version {version}, Blosc 1 writes 1 or 2"
    if cbytes > n:
        return f"is cut short: {n} of {cbytes} bytes"
    if cbytes < n:
        return f"is damaged: {n} bytes stored, its Blosc header says {cbytes}"
    refused = Expect(size, exact).refusal("its Blosc header says it decodes to", nbytes)
    if refused:
        return refused
    if typesize == 0 or flags >> 5 >= BLOSC_CODECS:
        return f"is damaged: Blosc header with type size {typesize} and flags {flags:#04x}"
    if flags & BLOSC_MEMCPYED:
        ok = cbytes == nbytes + BLOSC_HEADER
        return None if ok else f"is damaged: stored uncompressed, {cbytes - 16} of {nbytes} bytes"
    return _blosc_blocks_problem(data, nbytes, blocksize, cbytes)


def _blosc_blocks_problem(data: Any, nbytes: int, blocksize: int, cbytes: int) -> str | None:
    """The table of block starts after the header must lie in the chunk and point into it."""
    if nbytes == 0:
        return None
    if blocksize == 0 or blocksize > nbytes:
        return f"is damaged: Blosc block size {blocksize} for {nbytes} bytes"
    blocks = -(-nbytes // blocksize)
    first = BLOSC_HEADER + 4 * blocks
    if first > cbytes:
        return f"is cut short: {cbytes} bytes cannot hold the starts of its {blocks} Blosc blocks"
    starts = struct.unpack_from(f"<{blocks}I", data, BLOSC_HEADER)
    if min(starts) < first or max(starts) >= cbytes:
        return f"is damaged: a Blosc block starts outside the chunk's {cbytes} bytes"
    return None


@dataclass(frozen=True, slots=True)
class ZstdFrame:
    """What a Zstandard frame header says: content size (``None``: not stored), window."""

    content_size: int | None
    window: int
    checksum: bool
    end: int
    """Offset of the first block."""


def zstd_header(data: Any, at: int = 0) -> ZstdFrame:
    """Parse the frame header at ``at`` (raises :class:`ChunkProblem`)."""
    n = len(data)
    if n - at < 5:
        raise ChunkProblem(f"is cut short: {n} bytes end inside a Zstandard frame header")
    magic, fhd = ZSTD_START.unpack_from(data, at)
    if magic != ZSTD_MAGIC:
        raise ChunkProblem("is damaged: no Zstandard frame where one should start")
    single, checksum = bool(fhd & 0x20), bool(fhd & 0x04)
    if fhd & 0x08:
        raise ChunkProblem("is damaged: reserved bit set in its Zstandard frame header")
    dict_len, fcs_len = (0, 1, 2, 4)[fhd & 3], (1 if single else 0, 2, 4, 8)[fhd >> 6]
    pos = at + 5 + (0 if single else 1) + dict_len
    if pos + fcs_len > n:
        raise ChunkProblem(f"is cut short: {n} bytes end inside a Zstandard frame header")
    window = 0
    if not single:
        exponent, mantissa = int(data[at + 5]) >> 3, int(data[at + 5]) & 7
        window = (1 << (10 + exponent)) + ((1 << (10 + exponent)) >> 3) * mantissa
    fcs = struct.unpack_from(ZSTD_FCS[fcs_len], data, pos)[0] if fcs_len else None
    if fcs is not None and fcs_len == 2:
        fcs += 256
    return ZstdFrame(fcs, fcs if single and fcs is not None else window, checksum, pos + fcs_len)


def zstd_walk(data: Any) -> int:
    """Most bytes the Zstandard frames in ``data`` can decode to, from their block headers.

    Raises :class:`ChunkProblem` when a frame runs past the end of ``data`` (cut short) or a
    block header is invalid. Reads three bytes per block, none of the compressed data.
    """
    n, pos, bound = len(data), 0, 0
    while pos < n or pos == 0:
        frame = zstd_header(data, pos)
        pos, most = frame.end, 0
        block_max = min(frame.window, ZSTD_BLOCK_MAX)
        last = False
        while not last:
            if pos + 3 > n:
                raise ChunkProblem(f"is cut short: its Zstandard frame goes on past {n} bytes")
            head = int(data[pos]) | int(data[pos + 1]) << 8 | int(data[pos + 2]) << 16
            last, kind, size = bool(head & 1), (head >> 1) & 3, head >> 3
            if kind == 3:
                raise ChunkProblem("is damaged: invalid Zstandard block type")
            pos += 3 + (1 if kind == 1 else size)
            most += block_max if kind == 2 else size
        pos += 4 if frame.checksum else 0
        if pos > n:
            raise ChunkProblem(f"is cut short: its Zstandard frame goes on past {n} bytes")
        bound += most if frame.content_size is None else frame.content_size
    return bound


def zstd_needs_bounded_decode(data: Any, expect: Expect) -> bool:
    """Check a Zstandard chunk's first frame header; True when it states no content size.

    A stated content size is what the decoder allocates and then insists on, so it must be
    the chunk's size. Without one the decoder grows its output as it goes; such a chunk is
    decoded into a buffer of the expected size (exact) or its blocks are summed first (bound).
    """
    frame = zstd_header(data)
    if frame.content_size is None:
        if not expect.exact:
            refused = expect.refusal("its Zstandard blocks can decode to", zstd_walk(data))
            if refused:
                raise ChunkProblem(refused)
        return expect.exact
    refused = expect.refusal("its Zstandard header says it decodes to", frame.content_size)
    if refused:
        raise ChunkProblem(refused)
    return False


def zstd_decode_exact(data: Any, size: int) -> np.ndarray:
    """Decode a Zstandard chunk without a content size into exactly ``size`` bytes."""
    from numcodecs.zstd import Zstd

    out = np.empty(size, dtype=np.uint8)
    try:
        Zstd().decode(np.asarray(data), out=out)
    except Exception as exc:
        cause = explain("zstd", data, exc)
        if cause.startswith("cannot be decoded: "):
            cause = (
                f"is damaged: it does not decode to the {size} bytes a chunk of this array "
                f"holds ({cause.removeprefix('cannot be decoded: ')})"
            )
        raise ChunkProblem(cause) from exc
    return out


def inflate(data: Any, expect: Expect, codec: str) -> bytes:
    """Decode a gzip (members one after another) or zlib chunk, stopping past ``expect``."""
    limit = expect.size + 1
    pieces: list[bytes] = []
    rest: Any = np.ascontiguousarray(data).data.cast("B")
    total = 0
    while True:
        stream = zlib.decompressobj(ZLIB_WBITS[codec])
        try:
            piece = stream.decompress(rest, limit - total)
        except zlib.error as exc:
            raise ChunkProblem(f"is damaged: {codec} data: {exc}") from exc
        total += len(piece)
        pieces.append(piece)
        if total > expect.size:
            raise ChunkProblem(
                f"is damaged: it decodes to more than the {expect.size} bytes a chunk of this "
                f"array {'holds' if expect.exact else 'may hold'}"
            )
        if not stream.eof:
            raise ChunkProblem(f"is cut short: its {codec} stream goes on past {len(data)} bytes")
        rest = stream.unused_data
        if codec != "gzip" or not rest.strip(b"\0"):
            break
    refused = expect.refusal("it decodes to", total) if expect.exact else None
    if refused:
        raise ChunkProblem(refused)
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def lz4_problem(data: Any, expect: Expect) -> str | None:
    """numcodecs' LZ4 chunks start with their decoded size (4 bytes, little-endian)."""
    if len(data) < 4:
        return f"is cut short: {len(data)} bytes, less than its LZ4 size prefix"
    return expect.refusal("its LZ4 prefix says it decodes to", _u32(data, 0))


CHECKED = frozenset({"blosc", "zstd", "gzip", "zlib", "lz4"})
"""Codecs whose chunks are checked; any other codec decodes as it always has."""


def precheck(codec: str | None, data: Any, expect: Expect) -> bool:
    """Check a chunk of ``codec`` before decoding; True: decode it here (:func:`decode_here`).

    False means the codec's own decoder can run: its output is bounded by what was checked.
    Raises :class:`ChunkProblem` when the chunk is damaged.
    """
    if codec == "blosc":
        problem = blosc_problem(data, expect.size, expect.exact)
    elif codec == "lz4":
        problem = lz4_problem(data, expect)
    elif codec == "zstd":
        return zstd_needs_bounded_decode(data, expect)
    else:
        return codec in ("gzip", "zlib")
    if problem:
        raise ChunkProblem(problem)
    return False


def decode_here(codec: str, data: Any, expect: Expect) -> Any:
    """Decode a chunk the codec cannot be trusted to bound (see :func:`precheck`)."""
    if codec == "zstd":
        return zstd_decode_exact(data, expect.size)
    return inflate(data, expect, codec)


def explain(codec: str | None, data: Any, exc: BaseException) -> str:
    """The problem behind a codec's failure on a chunk: cut short when its framing says so."""
    if codec == "zstd":
        try:
            zstd_walk(data)
        except ChunkProblem as problem:
            return str(problem)
    text = " ".join(str(exc).split())
    return f"cannot be decoded: {type(exc).__name__}" + (f": {text}" if text else "")


def checked(
    codec: str | None, data: Any, expect: Expect, decode: Callable[[], Any]
) -> Any:
    """``decode()`` the chunk ``data`` once its header fits ``expect``, or decode it here.

    Raises :class:`ChunkProblem` for a damaged chunk, including any failure of ``decode``.
    """
    if precheck(codec, data, expect):
        return decode_here(str(codec), data, expect)
    try:
        return decode()
    except Exception as exc:
        raise ChunkProblem(explain(codec, data, exc)) from exc
