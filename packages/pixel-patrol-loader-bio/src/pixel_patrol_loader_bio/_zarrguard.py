"""Opening Zarr arrays so that every chunk passes :mod:`_chunkcheck` before it is decoded.

zarr-python reads a chunk's bytes from the store, then runs the array's codecs on them. Two
hooks, both public zarr types, sit on that path:

* the store is wrapped (:class:`NamingStore`): the bytes it returns carry the name of the file
  they came from, so an error names the chunk, and a file shorter than what is asked of it
  (an empty chunk file, a byte range past the end of a shard) is an error at once;
* the array is rebuilt from its own metadata with every bytes-to-bytes codec (Zarr v3, the
  codecs inside a shard and of its index included) or the compressor (Zarr v2) wrapped in a
  checking codec (:class:`CheckedCodec`, :class:`CheckedCompressor`). Only the wrapper sees
  the bytes each codec is given and the chunk they belong to, inner chunks of shards too.

Everything else (chunk grid, selection, fill values, concurrency) stays zarr's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import math
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

import numcodecs.abc
import numpy as np
from zarr.abc.codec import ArrayBytesCodec, BytesBytesCodec
from zarr.abc.store import RangeByteRequest, SuffixByteRequest
from zarr.codecs import (
    BloscCodec,
    BytesCodec,
    GzipCodec,
    ShardingCodec,
    TransposeCodec,
    ZstdCodec,
)
from zarr.storage import LocalStore, StorePath, WrapperStore

from pixel_patrol_loader_bio._chunkcheck import (
    CHECKED,
    ChunkError,
    ChunkProblem,
    Expect,
    checked,
    decode_here,
    explain,
    precheck,
)

if TYPE_CHECKING:
    from zarr.abc.store import ByteRequest
    from zarr.core.array_spec import ArraySpec
    from zarr.core.buffer import Buffer, BufferPrototype

METADATA_FILES = frozenset({".zarray", ".zattrs", ".zgroup", ".zmetadata", "zarr.json"})


class Named(np.ndarray):
    """Chunk bytes that remember the file they were read from (slices of them too)."""

    key: str | None = None

    def __array_finalize__(self, obj: Any) -> None:
        self.key = getattr(obj, "key", None)


def name_of(data: Any) -> str | None:
    """The store path of the file ``data`` was read from, when known."""
    return getattr(data, "key", None)


class NamingStore(WrapperStore[LocalStore]):
    """A read-only store whose chunk files are never shorter than asked, their bytes named.

    ``prefix`` is the array's path inside the Zarr store (names are relative to its root);
    ``kind`` names what a file of the array is (``"chunk"``, ``"shard"``); ``raw_size`` is the
    exact size of an uncompressed chunk file, ``None`` when chunks are compressed.
    """

    def __init__(
        self, store: LocalStore, prefix: str = "", kind: str = "chunk", raw_size: int | None = None
    ) -> None:
        super().__init__(store)
        self.prefix, self.kind, self.raw_size = prefix, kind, raw_size

    def _with_store(self, store: LocalStore) -> NamingStore:
        return type(self)(store, self.prefix, self.kind, self.raw_size)

    async def get(
        self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        buf = await self._store.get(key, prototype, byte_range)
        if buf is None or key.rsplit("/", 1)[-1] in METADATA_FILES:
            return buf
        name = f"{self.prefix}/{key}" if self.prefix else key
        problem = self._length_problem(len(buf), byte_range)
        if problem:
            raise ChunkError(f"{self.kind} {name} {problem}")
        data = buf.as_numpy_array()
        if self.raw_size is not None or type(data) is not np.ndarray:
            return buf  # uncompressed chunks were checked here; no codec will name them
        tagged = data.view(Named)
        tagged.key = name
        return prototype.buffer.from_array_like(cast(Any, tagged))

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        return [await self.get(key, prototype, byte_range) for key, byte_range in key_ranges]

    def _length_problem(self, n: int, byte_range: ByteRequest | None) -> str | None:
        if isinstance(byte_range, RangeByteRequest):
            want = byte_range.end - byte_range.start
            return None if n == want else f"is cut short: it ends before byte {byte_range.end}"
        if isinstance(byte_range, SuffixByteRequest):
            ok = n == byte_range.suffix
            return None if ok else f"is cut short: {n} bytes, its last {byte_range.suffix} needed"
        if byte_range is not None:
            return None
        if n == 0:
            return "is cut short: the file is empty"
        if self.raw_size is None or n == self.raw_size:
            return None
        if n < self.raw_size:
            return f"is cut short: {n} of {self.raw_size} bytes"
        return f"is damaged: {n} bytes stored, a chunk of this array holds {self.raw_size}"


ROLES = {"chunk": "chunk", "inner": "an inner chunk of shard", "index": "the index of shard"}
UNNAMED = {"chunk": "a chunk", "inner": "an inner chunk of a shard", "index": "a shard index"}


def where(role: str, data: Any) -> str:
    """``"chunk 0/c/0/0"``, ``"an inner chunk of shard 0/c/0/0"``: the subject of an error."""
    name = name_of(data)
    return f"{ROLES[role]} {name}" if name else UNNAMED[role]


def codec_name(codec: Any) -> str | None:
    """The checked format a codec's bytes are in (``"blosc"``, ...), or ``None``."""
    if isinstance(codec, BloscCodec):
        return "blosc"
    if isinstance(codec, ZstdCodec):
        return "zstd"
    if isinstance(codec, GzipCodec):
        return "gzip"
    name = str(getattr(codec, "codec_name", None) or getattr(codec, "codec_id", None) or "")
    name = name.removeprefix("numcodecs.")
    return name if name in CHECKED else None


def unnamed(data: np.ndarray) -> np.ndarray:
    """``data`` as an ordinary array: what a codec is given (no name to carry along)."""
    return data.view(np.ndarray) if type(data) is Named else data


@dataclasses.dataclass(frozen=True)
class CheckedCodec(BytesBytesCodec):
    """A Zarr v3 bytes-to-bytes codec whose input is checked first (see :mod:`_chunkcheck`).

    ``inside`` are the bytes-to-bytes codecs between this one and the array's bytes codec;
    ``exact`` says the decoded size is known: the array bytes codec is ``bytes`` and the codecs
    inside only add fixed sizes (checksums).
    """

    inner: BytesBytesCodec
    inside: tuple[BytesBytesCodec, ...] = ()
    exact: bool = False
    role: str = "chunk"

    @property
    def is_fixed_size(self) -> bool:  # type: ignore[override]
        return self.inner.is_fixed_size

    def to_dict(self) -> dict[str, Any]:
        return self.inner.to_dict()

    def evolve_from_array_spec(self, array_spec: ArraySpec) -> CheckedCodec:
        return dataclasses.replace(self, inner=self.inner.evolve_from_array_spec(array_spec))

    def validate(self, **kwargs: Any) -> None:
        self.inner.validate(**kwargs)

    def resolve_metadata(self, chunk_spec: ArraySpec) -> ArraySpec:
        return self.inner.resolve_metadata(chunk_spec)

    def compute_encoded_size(self, input_byte_length: int, chunk_spec: ArraySpec) -> int:
        return self.inner.compute_encoded_size(input_byte_length, chunk_spec)

    async def _encode_single(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> Buffer | None:
        return await self.inner._encode_single(chunk_bytes, chunk_spec)

    @functools.cached_property
    def kind(self) -> str | None:
        """The checked format of this codec's input (see :func:`codec_name`)."""
        return codec_name(self.inner)

    @functools.cached_property
    def _expected(self) -> dict[tuple[Any, ...], Expect]:
        return {}

    def expect(self, chunk_spec: ArraySpec) -> Expect:
        """What the bytes this codec decodes to must be, for a chunk of ``chunk_spec``."""
        key = (chunk_spec.shape, chunk_spec.dtype)
        found = self._expected.get(key)
        if found is None:
            itemsize = int(chunk_spec.dtype.to_native_dtype().itemsize)
            nbytes = math.prod(chunk_spec.shape) * itemsize
            if self.exact:
                for codec in self.inside:
                    nbytes = codec.compute_encoded_size(nbytes, chunk_spec)
            found = Expect(nbytes, True) if self.exact else Expect.around(nbytes)
            self._expected[key] = found
        return found

    async def _decode_single(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> Buffer:
        data = chunk_bytes.as_numpy_array()
        kind, expect, buffer = self.kind, self.expect(chunk_spec), chunk_spec.prototype.buffer
        try:
            if precheck(kind, data, expect):
                out = await asyncio.to_thread(decode_here, str(kind), data, expect)
                return buffer.from_array_like(np.frombuffer(out, np.uint8))
            try:
                given = buffer.from_array_like(unnamed(data)) if type(data) is Named else chunk_bytes
                return await self.inner._decode_single(given, chunk_spec)
            except Exception as exc:
                raise ChunkProblem(explain(kind, data, exc)) from exc
        except ChunkProblem as problem:
            raise ChunkError(f"{where(self.role, data)} {problem}") from problem


def checked_codecs(codecs: Iterable[Any], role: str = "chunk") -> tuple[Any, ...]:
    """``codecs`` (a Zarr v3 codec list) with every bytes-to-bytes codec checked.

    Sharding codecs are rebuilt with their inner and index codecs checked the same way.
    """
    codecs = tuple(codecs)
    array_bytes = next((c for c in codecs if isinstance(c, ArrayBytesCodec)), None)
    sized = isinstance(array_bytes, BytesCodec)
    out: list[Any] = []
    inside: list[BytesBytesCodec] = []
    for codec in codecs:
        if isinstance(codec, ShardingCodec):
            codec = dataclasses.replace(
                codec,
                codecs=checked_codecs(codec.codecs, "inner"),
                index_codecs=checked_codecs(codec.index_codecs, "index"),
            )
        elif isinstance(codec, BytesBytesCodec):
            exact = sized and all(c.is_fixed_size for c in inside)
            checked_codec = CheckedCodec(codec, tuple(inside), exact, role)
            inside.append(codec)
            codec = checked_codec
        out.append(codec)
    return tuple(out)


class CheckedCompressor(numcodecs.abc.Codec):  # type: ignore[misc]
    """A Zarr v2 compressor whose input is checked first (see :mod:`_chunkcheck`)."""

    codec_id = "checked"

    def __init__(self, inner: Any, expect: Expect) -> None:
        self.inner = inner
        self.codec_id = inner.codec_id
        self.kind = codec_name(inner)
        self.expect = expect

    def get_config(self) -> dict[str, Any]:
        return dict(self.inner.get_config())

    def encode(self, buf: Any) -> Any:
        return self.inner.encode(buf)

    def decode(self, buf: Any, out: Any = None) -> Any:
        data = np.asanyarray(buf)
        try:
            decode = functools.partial(self.inner.decode, unnamed(data), out)
            return checked(self.kind, data, self.expect, decode)
        except ChunkProblem as problem:
            raise ChunkError(f"{where('chunk', data)} {problem}") from problem


def _v2_checked(meta: Any) -> tuple[Any, int | None]:
    """Zarr v2 metadata with its compressor checked, and the size of an uncompressed chunk."""
    nbytes = math.prod(meta.chunks) * int(meta.dtype.to_native_dtype().itemsize)
    if meta.compressor is None:
        return meta, None if meta.filters else nbytes
    expect = Expect.around(nbytes) if meta.filters else Expect(nbytes, True)
    return dataclasses.replace(meta, compressor=CheckedCompressor(meta.compressor, expect)), None


def _v3_checked(meta: Any) -> tuple[Any, int | None]:
    """Zarr v3 metadata with its codecs checked, and the size of an uncompressed chunk."""
    codecs = checked_codecs(meta.codecs)
    raw = None
    if all(isinstance(c, BytesCodec | TransposeCodec) for c in meta.codecs):
        itemsize = int(meta.data_type.to_native_dtype().itemsize)
        raw = math.prod(meta.chunk_grid.chunk_shape) * itemsize
    return dataclasses.replace(meta, codecs=codecs), raw


def open_checked(root: str, array_path: str) -> Any:
    """The zarr array at ``array_path`` of the store ``root``, every chunk read checked.

    Raises whatever ``zarr.open_array`` raises for a missing or invalid array.
    """
    import zarr
    from zarr.core.array import AsyncArray

    local = LocalStore(os.path.join(root, array_path), read_only=True)
    arr = zarr.open_array(local, mode="r")
    meta = arr.metadata
    if meta.zarr_format == 2:
        checked_meta, raw = _v2_checked(meta)
        kind = "chunk"
    else:
        checked_meta, raw = _v3_checked(meta)
        kind = "shard" if any(isinstance(c, ShardingCodec) for c in meta.codecs) else "chunk"
    store = NamingStore(local, array_path.strip("/"), kind, raw)
    config = arr.async_array.config
    return zarr.Array(AsyncArray(checked_meta, StorePath(store), config))
