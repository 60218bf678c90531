"""A damaged Zarr chunk is an error naming the chunk, never different pixels.

Blosc 1 decodes as many bytes as the 16-byte header of a chunk says it holds, whatever the
length of the buffer it is given: a chunk file cut short is decoded from the bytes that happen
to lie after it in memory. When those still hold the rest of the chunk (the memory of a whole
copy, just freed) the cut chunk reads back as plausible pixels. The tests below set up exactly
that situation instead of waiting for the allocator to produce it, and cut every kind of chunk
the loaders read at several points.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import pytest

from pixel_patrol_base.errors import ImageReadError
from pixel_patrol_loader_bio.bioio_loader import BioioLoader
from pixel_patrol_loader_bio.zarr_loader import ZarrLoader

LOADERS = {"bioio": BioioLoader, "zarr": ZarrLoader}
STACK = (np.arange(2 * 40 * 48, dtype=np.uint32) * 37 % 65521).astype(np.uint16).reshape(2, 40, 48)
CHUNK = (1, 20, 24)
AXES = [{"name": n, "type": "space"} for n in ("z", "y", "x")]
REPEATS = 5


def outcome(loader: Any, path: Path) -> np.ndarray | ImageReadError:
    """The pixels of the store's only image, or the loader's ImageReadError."""
    try:
        with loader.open(str(path)) as f:
            assert len(f.images) == 1
            return np.asarray(f.read(0))
    except ImageReadError as exc:
        assert "\n" not in str(exc) and exc.reader == "zarr"
        return exc


def configs() -> dict[str, dict[str, Any]]:
    """Array layouts: Zarr format, codecs and sharding (``create_array`` keywords)."""
    from zarr.codecs import (
        BloscCodec,
        BytesCodec,
        Crc32cCodec,
        GzipCodec,
        ShardingCodec,
        ZstdCodec,
    )

    start = ShardingCodec(
        chunk_shape=CHUNK, codecs=[BytesCodec(), BloscCodec()], index_location="start"
    )
    return {
        "v2-blosc-lz4": {"zarr_format": 2, "compressors": numcodecs.Blosc("lz4", shuffle=1)},
        "v2-blosc-stored": {"zarr_format": 2, "compressors": numcodecs.Blosc("lz4", clevel=0)},
        "v2-zstd": {"zarr_format": 2, "compressors": numcodecs.Zstd()},
        "v2-zlib": {"zarr_format": 2, "compressors": numcodecs.Zlib()},
        "v2-gzip": {"zarr_format": 2, "compressors": numcodecs.GZip()},
        "v2-lz4": {"zarr_format": 2, "compressors": numcodecs.LZ4()},
        "v2-raw": {"zarr_format": 2, "compressors": None},
        "v3-blosc": {"zarr_format": 3, "compressors": [BloscCodec(cname="lz4")]},
        "v3-blosc-crc32c": {"zarr_format": 3, "compressors": [BloscCodec(), Crc32cCodec()]},
        "v3-zstd": {"zarr_format": 3, "compressors": [ZstdCodec()]},
        "v3-gzip": {"zarr_format": 3, "compressors": [GzipCodec()]},
        "v3-raw": {"zarr_format": 3, "compressors": None},
        "v3-sharded-blosc": {"zarr_format": 3, "shards": STACK.shape, "compressors": [BloscCodec()]},
        "v3-sharded-zstd": {"zarr_format": 3, "shards": STACK.shape, "compressors": [ZstdCodec()]},
        "v3-sharded-gzip": {"zarr_format": 3, "shards": STACK.shape, "compressors": [GzipCodec()]},
        "v3-sharded-index-first": {
            "zarr_format": 3, "chunks": STACK.shape, "serializer": start, "compressors": None,
        },
    }  # fmt: skip


CONFIGS = list(configs())


def write_ome_zarr(
    root: Path, config: str, data: np.ndarray = STACK, chunks: tuple[int, ...] | None = None
) -> Path:
    """An OME-Zarr image (v0.4 for Zarr v2, v0.5 for v3) holding ``data`` as level 0."""
    import zarr

    kw = {"chunks": chunks or CHUNK[-data.ndim :], **configs()[config]}
    fmt = kw.pop("zarr_format")
    group = zarr.open_group(str(root), mode="w", zarr_format=fmt)
    arr = group.create_array("0", shape=data.shape, dtype=data.dtype, fill_value=0, **kw)
    arr[...] = data
    scale = [{"type": "scale", "scale": [1.0] * data.ndim}]
    ms = {"axes": AXES[-data.ndim :], "datasets": [{"path": "0", "coordinateTransformations": scale}]}
    if fmt == 2:
        group.attrs["multiscales"] = [{**ms, "version": "0.4"}]
    else:
        group.attrs["ome"] = {"version": "0.5", "multiscales": [ms]}
    return root


def chunk_files(store: Path) -> list[Path]:
    """The chunk (or shard) files of level 0, in path order."""
    meta = {".zarray", ".zattrs", ".zgroup", "zarr.json"}
    return sorted(p for p in (store / "0").rglob("*") if p.is_file() and p.name not in meta)


def key_of(store: Path, chunk: Path) -> str:
    return chunk.relative_to(store).as_posix()


def cut_points(size: int) -> list[int]:
    """One byte missing, half missing, only a header left, nothing left."""
    return sorted({size - 1, size // 2, min(16, size - 1), 0}, reverse=True)


# --- the failure, made deterministic ---------------------------------------------------------


def test_blosc_decodes_past_the_bytes_it_is_given() -> None:
    """Why the guard exists: Blosc 1 reads as far as its header says, not as far as the buffer goes."""
    full = numcodecs.Blosc("lz4", shuffle=1).encode(STACK)
    half = memoryview(full)[: len(full) // 2]
    assert np.array_equal(np.frombuffer(numcodecs.Blosc().decode(half), np.uint16), STACK.ravel())


@pytest.fixture
def memory_continues(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Cut chunk files read back as a view of the whole chunk's bytes.

    Fill the returned dict with ``{chunk file path: whole bytes}``; reading such a file gives its
    (cut) length of bytes, and the memory right after them holds the rest of the chunk, as
    when the allocator places the read where a whole copy lived a moment before.
    """
    import zarr

    original = zarr.storage.LocalStore.get
    wholes: dict[str, bytes] = {}

    async def get(self: Any, key: str, prototype: Any, byte_range: Any = None) -> Any:
        buf = await original(self, key, prototype, byte_range)
        whole = wholes.get(os.path.join(str(self.root), key))
        if buf is None or whole is None or byte_range is not None:
            return buf
        view = np.frombuffer(whole, dtype=np.uint8)[: len(buf)]
        return prototype.buffer.from_array_like(view)

    monkeypatch.setattr(zarr.storage.LocalStore, "get", get)
    return wholes


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("config", ["v2-blosc-lz4", "v3-blosc"])
def test_cut_blosc_chunk_with_the_rest_in_memory_is_an_error(
    tmp_path: Path, memory_continues: dict[str, bytes], config: str, loader: str
) -> None:
    import zarr

    store = write_ome_zarr(tmp_path / "s.ome.zarr", config)
    chunk = chunk_files(store)[0]
    whole = chunk.read_bytes()
    memory_continues[str(chunk)] = whole
    chunk.write_bytes(whole[: len(whole) // 2])
    # zarr alone decodes the cut chunk into the original pixels: the bytes it never read decide
    assert np.array_equal(zarr.open_array(str(store / "0"), mode="r")[...], STACK)
    for _ in range(REPEATS):
        got = outcome(LOADERS[loader](), store)
        assert isinstance(got, ImageReadError), "a cut chunk read back as pixels"
        assert got.cause == (
            f"chunk {key_of(store, chunk)} is cut short: {len(whole) // 2} of {len(whole)} bytes"
        )


@pytest.mark.parametrize("loader", LOADERS)
def test_inner_chunk_shorter_than_its_bytes_is_an_error(tmp_path: Path, loader: str) -> None:
    """A shard index that gives an inner chunk half its length: the rest follows it in the shard."""
    store = write_ome_zarr(tmp_path / "s.ome.zarr", "v3-sharded-blosc")
    shard = chunk_files(store)[0]
    data = bytearray(shard.read_bytes())
    index = np.frombuffer(data[-(16 * 8 + 4) : -4], dtype="<u8").reshape(-1, 2).copy()
    index[0, 1] //= 2
    data[-(16 * 8 + 4) : -4] = index.tobytes()
    import google_crc32c  # zarr's own dependency for the crc32c codec

    data[-4:] = google_crc32c.value(bytes(data[-(16 * 8 + 4) : -4])).to_bytes(4, "little")
    shard.write_bytes(bytes(data))
    got = outcome(LOADERS[loader](), store)
    assert isinstance(got, ImageReadError)
    assert got.cause.startswith(f"an inner chunk of shard {key_of(store, shard)} is cut short: ")



@pytest.mark.parametrize("loader", LOADERS)
def test_run_reports_the_cut_chunk_and_keeps_the_other_store(
    tmp_path: Path, memory_continues: dict[str, bytes], loader: str
) -> None:
    """Through a whole run: one error row naming the chunk; the intact store's rows are exact."""
    from pixel_patrol_base import api

    data = tmp_path / "data"
    write_ome_zarr(data / "good.ome.zarr", "v2-blosc-lz4")
    store = write_ome_zarr(data / "cut.ome.zarr", "v2-blosc-lz4")
    chunk = chunk_files(store)[0]
    whole = chunk.read_bytes()
    memory_continues[str(chunk)] = whole
    chunk.write_bytes(whole[: len(whole) // 2])
    project = api.create_project("z", data, loader=loader, output_path=tmp_path / "r.parquet")
    api.process_files(project, max_workers=1, processors_include=["raster-basic"])
    rows = api.load(project.output_path)[0].to_pylist()
    cut = [r for r in rows if "cut.ome.zarr" in r["imported_path"]]
    assert len(cut) == 1 and cut[0]["error_stage"] == "load"
    name = key_of(store, chunk)
    assert f"chunk {name} is cut short: {len(whole) // 2} of {len(whole)} bytes" in cut[0]["error"]
    good = [r for r in rows if "good.ome.zarr" in r["imported_path"] and r["obs_level"] == 0]
    assert good and good[0]["error"] is None
    assert good[0]["finite_pixel_count"] == STACK.size


# --- every layout, cut at several points -----------------------------------------------------


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("config", CONFIGS)
def test_cut_chunk_is_an_error_naming_it(tmp_path: Path, config: str, loader: str) -> None:
    store = write_ome_zarr(tmp_path / "s.ome.zarr", config)
    first = outcome(LOADERS[loader](), store)
    assert not isinstance(first, ImageReadError) and np.array_equal(first, STACK)
    chunk = chunk_files(store)[0]
    whole = chunk.read_bytes()
    for size in cut_points(len(whole)):
        chunk.write_bytes(whole[:size])
        for _ in range(REPEATS):
            got = outcome(LOADERS[loader](), store)
            assert isinstance(got, ImageReadError), f"cut at {size} of {len(whole)} read back"
            assert key_of(store, chunk) in got.cause, got.cause
            if "shard" not in config:
                assert got.cause.startswith(f"chunk {key_of(store, chunk)} "), got.cause


FIRST_CHUNK = (slice(0, 1), slice(0, 20), slice(0, 24))
LAST_CHUNK = (slice(1, 2), slice(20, 40), slice(24, 48))


@pytest.mark.parametrize("config", CONFIGS)
def test_region_reads_of_a_cut_store_fail_or_are_exact(tmp_path: Path, config: str) -> None:
    """Region reads take the other path through a shard (some inner chunks, read by range).

    The first chunk file holds the first chunk (or, sharded, every chunk with the last one at
    the end of the file): a region either fails naming the file or reads exact pixels.
    """
    store = write_ome_zarr(tmp_path / "s.ome.zarr", config)
    chunk = chunk_files(store)[0]
    whole = chunk.read_bytes()
    for size in cut_points(len(whole)):
        chunk.write_bytes(whole[:size])
        failed = []
        for box in (FIRST_CHUNK, LAST_CHUNK):
            try:
                with ZarrLoader().open(str(store)) as f:
                    assert np.array_equal(f.read(0, box), STACK[box])
            except ImageReadError as exc:
                assert key_of(store, chunk) in exc.cause, exc.cause
                failed.append(box)
        assert failed, f"cut at {size} of {len(whole)}: both regions read back"


@pytest.mark.parametrize("config", CONFIGS)
def test_untouched_stores_read_exactly(tmp_path: Path, config: str) -> None:
    """The checks refuse nothing zarr writes, for whole images and regions, edge chunks included."""
    data = STACK[:, :37, :45]  # edge chunks are partly outside the image
    store = write_ome_zarr(tmp_path / "s.ome.zarr", config, data)
    for loader in LOADERS.values():
        with loader().open(str(store)) as f:
            assert np.array_equal(f.read(0), data)
            box = (slice(1, 2), slice(5, 33), slice(7, 40))
            assert np.array_equal(f.read(0, box), data[box])


REAL = ["ome-zarr/viv_blobs_image_v04.ome.zarr", "ome-zarr/viv_blobs_image_v05.ome.zarr"]


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("rel", REAL, ids=lambda r: r.split("/")[-1])
def test_real_store_chunk_cut_is_an_error(real_copy, rel: str, loader: str) -> None:
    store = real_copy(rel)
    whole_pixels = outcome(LOADERS[loader](), store)
    assert not isinstance(whole_pixels, ImageReadError)
    chunk = chunk_files(store)[0]
    whole = chunk.read_bytes()
    for size in cut_points(len(whole)):
        chunk.write_bytes(whole[:size])
        for _ in range(4 * REPEATS):
            got = outcome(LOADERS[loader](), store)
            assert isinstance(got, ImageReadError), f"cut at {size} of {len(whole)} read back"
            assert got.cause.startswith(f"chunk {key_of(store, chunk)} is cut short: ")


# --- headers that claim another size ---------------------------------------------------------


def blosc_header_claiming(chunk: bytes, nbytes: int) -> bytes:
    return chunk[:4] + nbytes.to_bytes(4, "little") + chunk[8:]


@pytest.mark.parametrize("loader", LOADERS)
def test_blosc_header_claiming_more_than_a_chunk_is_refused(tmp_path: Path, loader: str) -> None:
    store = write_ome_zarr(tmp_path / "s.ome.zarr", "v2-blosc-lz4")
    chunk = chunk_files(store)[0]
    chunk.write_bytes(blosc_header_claiming(chunk.read_bytes(), 2**30))
    got = outcome(LOADERS[loader](), store)
    assert isinstance(got, ImageReadError)
    assert got.cause == (
        f"chunk {key_of(store, chunk)} is damaged: its Blosc header says it decodes to "
        f"{2**30} bytes, a chunk of this array holds {STACK[0, :20, :24].nbytes}"
    )


def test_blosc_header_fields_are_checked() -> None:
    from pixel_patrol_loader_bio._chunkcheck import blosc_problem

    good = numcodecs.Blosc("lz4", shuffle=1).encode(STACK)
    assert blosc_problem(good, STACK.nbytes, exact=True) is None
    bad_version = bytes([9]) + good[1:]
    assert "version 9" in str(blosc_problem(bad_version, STACK.nbytes, exact=True))
    no_typesize = good[:3] + b"\x00" + good[4:]
    assert "type size 0" in str(blosc_problem(no_typesize, STACK.nbytes, exact=True))
    longer = good + b"\x00"
    assert blosc_problem(longer, STACK.nbytes, exact=True) == (
        f"is damaged: {len(longer)} bytes stored, its Blosc header says {len(good)}"
    )
    starts_outside = bytearray(good)
    starts_outside[16:20] = (len(good) + 5).to_bytes(4, "little")
    assert "block" in str(blosc_problem(bytes(starts_outside), STACK.nbytes, exact=True))


def blocks(total: int, block: int = 2**17, byte: int = 7) -> Iterator[bytes]:
    """Zstandard RLE blocks regenerating ``total`` bytes of ``byte``."""
    while total > 0:
        size = min(block, total)
        total -= size
        yield (int(total == 0) | 1 << 1 | size << 3).to_bytes(3, "little") + bytes([byte])


def zstd_frame(total: int, declared: int | None) -> bytes:
    """A Zstandard frame of RLE blocks; ``declared`` is its content size field (or none)."""
    magic = (0xFD2FB528).to_bytes(4, "little")
    unsized = bytes([0x00, 0x38])  # no content size, 128 KiB window
    sized = bytes([0xA0]) + (declared or 0).to_bytes(4, "little")  # single segment, 4-byte size
    return magic + (unsized if declared is None else sized) + b"".join(blocks(total))


def test_zstd_frames_without_content_size_read_exactly(tmp_path: Path) -> None:
    """Frames written by streaming compressors carry no content size; they stay readable."""
    store = write_ome_zarr(tmp_path / "s.ome.zarr", "v3-zstd", np.full((40, 48), 7, np.uint8))
    for chunk in chunk_files(store):
        chunk.write_bytes(zstd_frame(20 * 24, None))
    for loader in LOADERS.values():
        with loader().open(str(store)) as f:
            assert np.array_equal(f.read(0), np.full((40, 48), 7, np.uint8))
    chunk_files(store)[1].write_bytes(zstd_frame(20 * 24 + 1, None))
    got = outcome(ZarrLoader(), store)
    assert isinstance(got, ImageReadError) and key_of(store, chunk_files(store)[1]) in got.cause


# --- decompression bombs, in a child process with little address space -----------------------

CHILD = r"""
import json, resource, sys
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import numpy as np
from pixel_patrol_base.errors import ImageReadError
from pixel_patrol_loader_bio.bioio_loader import BioioLoader
from pixel_patrol_loader_bio.zarr_loader import ZarrLoader
loader = {"bioio": BioioLoader, "zarr": ZarrLoader}[sys.argv[2]]()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    with loader.open(sys.argv[1]) as f:
        f.read(0)
    cause = None
except ImageReadError as exc:
    cause = exc.cause
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"cause": cause, "grown_mib": grown / 1024}))
"""

BOMB = 2**30
AS_LIMIT = 3 * 2**30


def gzip_bomb() -> bytes:
    """1 GiB of zeros as gzip members of 1 MiB (about 1 MB)."""
    import gzip

    return gzip.compress(bytes(2**20), 9) * (BOMB // 2**20)


def zlib_bomb() -> bytes:
    """1 GiB of zeros as one zlib stream (about 1 MB): fully flushed 1 MiB pieces repeat."""
    import zlib

    comp = zlib.compressobj(9)
    first = comp.compress(bytes(2**20)) + comp.flush(zlib.Z_FULL_FLUSH)
    piece = comp.compress(bytes(2**20)) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = comp.flush()[:-4]
    adler = (BOMB % 65521) << 16 | 1  # Adler-32 of n zero bytes
    return first + piece * (BOMB // 2**20 - 1) + tail + adler.to_bytes(4, "big")


BOMBS = {
    "zstd-no-size": ("v3-zstd", lambda: zstd_frame(BOMB, None)),
    "zstd-sized": ("v3-zstd", lambda: zstd_frame(BOMB, BOMB)),
    "gzip": ("v3-gzip", gzip_bomb),
    "zlib": ("v2-zlib", zlib_bomb),
    "v2-zstd-no-size": ("v2-zstd", lambda: zstd_frame(BOMB, None)),
}


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("bomb", BOMBS)
def test_decompression_bomb_chunk_is_refused_in_bounded_memory(
    tmp_path: Path, bomb: str, loader: str
) -> None:
    import subprocess
    import sys

    config, make = BOMBS[bomb]
    store = write_ome_zarr(tmp_path / "s.ome.zarr", config, np.full((64, 64), 7, np.uint8), (64, 64))
    chunk = chunk_files(store)[0]
    chunk.write_bytes(make())
    assert chunk.stat().st_size < 2**21  # small on disk
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(store), loader, str(AS_LIMIT)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    import json

    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["cause"] is not None and result["cause"].startswith(
        f"chunk {key_of(store, chunk)} is damaged: "
    ), result
    assert "4096" in result["cause"]  # the size a chunk of this array holds
    assert result["grown_mib"] < 100, result


# --- the checks refuse nothing the codecs write ----------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def sample(nbytes: int, itemsize: int, seed: int) -> np.ndarray:
    """Half smooth, half noisy bytes: both compressible and incompressible stretches."""
    rng = np.random.default_rng(seed)
    smooth = (np.arange(nbytes // 2) // 7 % 251).astype(np.uint8)
    noise = rng.integers(0, 256, nbytes - nbytes // 2, dtype=np.uint8)
    data = np.concatenate([smooth, noise])
    return data[: nbytes - nbytes % itemsize]


@settings(max_examples=150, deadline=None)
@given(
    nbytes=st.integers(1, 300_000),
    itemsize=st.sampled_from([1, 2, 4, 8]),
    cname=st.sampled_from(["lz4", "lz4hc", "blosclz", "zstd", "zlib"]),
    shuffle=st.sampled_from([0, 1, 2]),
    clevel=st.integers(0, 9),
    blocksize=st.sampled_from([0, 256, 4096, 65536]),
    seed=st.integers(0, 2**16),
)
def test_blosc_chunks_as_written_pass(nbytes, itemsize, cname, shuffle, clevel, blocksize, seed):
    from pixel_patrol_loader_bio._chunkcheck import blosc_problem

    data = sample(nbytes, itemsize, seed).view(f"u{itemsize}")
    codec = numcodecs.Blosc(cname, clevel, shuffle, blocksize)
    encoded = codec.encode(data)
    assert blosc_problem(encoded, data.nbytes, exact=True) is None
    assert blosc_problem(encoded[:-1], data.nbytes, exact=True) is not None
    assert blosc_problem(encoded, data.nbytes - 1, exact=True) is not None


@settings(max_examples=100, deadline=None)
@given(
    nbytes=st.integers(1, 600_000),
    codec=st.sampled_from(["zstd", "gzip", "zlib", "lz4"]),
    level=st.integers(1, 9),
    seed=st.integers(0, 2**16),
)
def test_other_chunks_as_written_decode_exactly(nbytes: int, codec: str, level: int, seed: int):
    from pixel_patrol_loader_bio._chunkcheck import ChunkProblem, Expect, checked

    data = sample(nbytes, 1, seed)
    numcodec = {"zstd": numcodecs.Zstd, "gzip": numcodecs.GZip, "zlib": numcodecs.Zlib,
                "lz4": numcodecs.LZ4}[codec](level)  # fmt: skip
    encoded = np.frombuffer(numcodec.encode(data), np.uint8)
    out = checked(codec, encoded, Expect(nbytes, True), lambda: numcodec.decode(encoded))
    assert np.array_equal(np.frombuffer(out, np.uint8), data)
    with pytest.raises(ChunkProblem, match=r"is cut short|is damaged|cannot be decoded"):
        checked(codec, encoded[:-5], Expect(nbytes, True), lambda: numcodec.decode(encoded[:-5]))
    with pytest.raises(ChunkProblem, match="is damaged"):
        checked(codec, encoded, Expect(nbytes - 1, True), lambda: numcodec.decode(encoded))


@settings(max_examples=100, deadline=None)
@given(total=st.integers(1, 2**20), declared=st.booleans(), cut=st.integers(1, 40))
def test_zstd_walk_bounds_and_finds_cuts(total: int, declared: bool, cut: int) -> None:
    from pixel_patrol_loader_bio._chunkcheck import ChunkProblem, zstd_walk

    frame = zstd_frame(total, total if declared else None)
    assert zstd_walk(frame) == total  # RLE and raw blocks: the bound is exact
    with pytest.raises(ChunkProblem, match="is cut short"):
        zstd_walk(frame[: max(len(frame) - cut, 0)])
