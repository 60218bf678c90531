"""Decoding respects the per-task memory budget (``--mb-per-task``).

An image whose smallest decodable piece (TIFF strip or tile, Zarr chunk, a whole PNG, a bioio
plugin's plane) is larger than the budget is refused with a one-line error naming the piece,
its size, the budget and the option that would allow it; everything else is read in pieces
that fit. Budgets here are tiny (1 MiB or a few kB) so the rule is exercised on small files.
Tests that could allocate gigabytes if the rule failed run in a subprocess whose address
space is limited, so they fail fast instead of exhausting the machine.
"""

from __future__ import annotations

import json
import os
import resource
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from pixel_patrol_base.contracts import BudgetedLoader
from pixel_patrol_base.errors import ImageReadError
from pixel_patrol_loader_bio.bioio_loader import BioioLoader
from pixel_patrol_loader_bio.tifffile_loader import TifffileLoader
from pixel_patrol_loader_bio.zarr_loader import ZarrLoader

MIB = 2**20
TIFF_LOADERS = [TifffileLoader, BioioLoader]
IDS = ["tifffile", "bioio"]


def read_all(loader, path: Path) -> list[np.ndarray]:
    with loader.open(str(path)) as f:
        return [f.read(i) for i in range(len(f.images))]


def test_loaders_take_a_budget() -> None:
    for cls in (TifffileLoader, BioioLoader, ZarrLoader):
        loader = cls()
        assert isinstance(loader, BudgetedLoader)
        limited = loader.with_budget(MIB)
        assert type(limited) is cls and limited is not loader
        assert limited.budget.limit == MIB and loader.budget.limit is None


def one_strip(path: Path, shape=(2048, 4096), compression="zlib") -> np.ndarray:
    """A 16 MiB uint16 image stored as a single strip."""
    data = (np.arange(np.prod(shape), dtype=np.uint32) % 251).astype(np.uint16).reshape(shape)
    tifffile.imwrite(path, data, photometric="minisblack", compression=compression,
                     rowsperstrip=shape[0], metadata=None)  # fmt: skip
    return data


@pytest.mark.parametrize("loader", TIFF_LOADERS, ids=IDS)
def test_compressed_strip_over_budget_is_refused(tmp_path: Path, loader) -> None:
    path = tmp_path / "strip.tif"
    data = one_strip(path)
    with pytest.raises(ImageReadError) as info:
        loader().with_budget(MIB).open(str(path))
    assert info.value.reader == "tifffile"
    assert info.value.cause == (
        "a strip (ADOBE_DEFLATE compression) of this image decodes to 16.0 MiB at once, more "
        "than the memory budget of 1.0 MiB per task; run with --mb-per-task 16 or more to read it"
    )
    assert np.array_equal(read_all(loader().with_budget(16 * MIB), path)[0], data)
    assert np.array_equal(read_all(loader(), path)[0], data)  # no budget: no limit


@pytest.mark.parametrize("loader", TIFF_LOADERS, ids=IDS)
@pytest.mark.parametrize("layout", ["small-strips", "one-uncompressed-strip"])
def test_within_budget_layouts_are_read_in_bounded_regions(tmp_path: Path, loader, layout: str) -> None:
    """Many small strips, or one uncompressed strip of any size: never refused."""
    path = tmp_path / "x.tif"
    data = one_strip(path, compression=None)
    if layout == "small-strips":
        tifffile.imwrite(path, data, photometric="minisblack", compression="zlib",
                         rowsperstrip=16, metadata=None)  # fmt: skip
    with loader().with_budget(MIB).open(str(path)) as f:
        for box in [(slice(0, 64), slice(0, 4096)), (slice(1000, 1100), slice(5, 4000))]:
            assert np.array_equal(f.read(0, box), data[box])


@pytest.mark.parametrize("loader", TIFF_LOADERS, ids=IDS)
def test_tile_larger_than_its_image_is_refused(tmp_path: Path, loader) -> None:
    """A 16×16 image in one 1024×1024 tile: the declared image is tiny, the decode is not."""
    path = tmp_path / "tile.tif"
    tifffile.imwrite(path, np.ones((16, 16), np.uint16), photometric="minisblack",
                     compression="zlib", tile=(1024, 1024), metadata=None)  # fmt: skip
    with pytest.raises(ImageReadError, match=r"a tile \(ADOBE_DEFLATE compression\) of this image decodes to 2.0 MiB"):
        loader().with_budget(MIB).open(str(path))


def test_refused_image_of_a_container_keeps_the_others(tmp_path: Path) -> None:
    """Only the image over budget fails (when it is read); the other series are fine."""
    path = tmp_path / "two.ome.tif"
    small = np.arange(32 * 32, dtype=np.uint16).reshape(32, 32)
    with tifffile.TiffWriter(path, ome=True) as tw:
        tw.write(small, photometric="minisblack")
        tw.write(np.zeros((1024, 1024), np.uint16), photometric="minisblack", compression="zlib",
                 rowsperstrip=1024)  # fmt: skip
    with TifffileLoader().with_budget(MIB).open(str(path)) as f:
        assert np.array_equal(f.read(0), small)
        with pytest.raises(ImageReadError, match=r"decodes to 2\.0 MiB at once"):
            f.read(1)


def png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG that declares ``width`` × ``height`` grey pixels and holds almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b""))


def test_png_larger_than_budget_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.fromarray(np.full((1024, 2048), 9, np.uint8)).save(path)
    with pytest.raises(ImageReadError) as info:
        BioioLoader().with_budget(MIB).open(str(path))
    assert info.value.reader == "pillow"
    assert info.value.cause == (
        "this PNG file, which Pillow can only decode whole, is 2.0 MiB, more than the memory "
        "budget of 1.0 MiB per task; run with --mb-per-task 2 or more to read it"
    )
    assert read_all(BioioLoader().with_budget(2 * MIB), path)[0].mean() == 9


def test_budget_replaces_pillows_pixel_limit(tmp_path: Path) -> None:
    """Pillow refuses 190 million pixels on its own; under a budget the budget decides."""
    path = tmp_path / "wide.png"
    png_header_only(path, 19_000, 10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with BioioLoader().with_budget(256 * MIB).open(str(path)) as f:
            assert f.images[0].shape == (10_000, 19_000)
        with pytest.raises(ImageReadError, match=r"is 181.2 MiB, more than the memory budget of 64.0 MiB"):
            BioioLoader().with_budget(64 * MIB).open(str(path))
    with pytest.raises(ImageReadError, match="DecompressionBombError"):
        BioioLoader().open(str(path))  # no budget: Pillow's own guard applies


@pytest.mark.parametrize("loader", [ZarrLoader, BioioLoader], ids=["zarr", "bioio"])
def test_zarr_chunk_over_budget_is_refused(tmp_path: Path, loader) -> None:
    import zarr

    store = tmp_path / "big.ome.zarr"
    group = zarr.open_group(str(store), mode="w", zarr_format=2)
    arr = group.create_array("0", shape=(1024, 1024), dtype="uint16", chunks=(1024, 1024))
    arr[...] = 3
    axes = [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
    (store / ".zattrs").write_text(json.dumps({"multiscales": [{"version": "0.4", "axes": axes, "datasets": [{"path": "0"}]}]}))
    with pytest.raises(ImageReadError, match=r"a chunk of this image decodes to 2.0 MiB at once, more than the memory budget of 1.0 MiB per task; run with --mb-per-task 2"):
        loader().with_budget(MIB).open(str(store))
    small = zarr.open_array(str(store / "0"), mode="r+")
    assert read_all(loader().with_budget(2 * MIB), store)[0].sum() == 3 * small.size


@pytest.mark.parametrize(
    ("rel", "budget", "piece"),
    [("czi/aics_s_1_t_1_c_1_z_1.czi", 100_000, "one YX block of this image, which bioio-czi decodes at once, is 0.3 MiB"),
     ("nd2/pims_cluster.nd2", 4_000, "one CYX block of this image, which bioio-nd2 decodes at once, is 0.0 MiB"),
     ("lif/goelzer_PR2729_frameOrderCombinedScanTypes.lif", 10_000, "one ZYX block of this image, which bioio-lif decodes at once, is 0.0 MiB")],
    ids=["czi", "nd2", "lif"],
)  # fmt: skip
def test_plugin_pieces_over_budget_are_refused(real_copy, rel: str, budget: int, piece: str) -> None:
    path = real_copy(rel)
    with pytest.raises(ImageReadError) as info:
        BioioLoader().with_budget(budget).open(str(path))
    assert info.value.cause.startswith(piece + ", more than the memory budget")
    assert read_all(BioioLoader().with_budget(16 * MIB), path)


LIMITED = """
import json, resource, sys  # peak RSS from VmHWM: ru_maxrss keeps the forking parent's peak
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
from pixel_patrol_base import api
folder, loader, out, mb = sys.argv[2:6]
project = api.create_project("budget", folder, loader=loader, output_path=out)
api.process_files(project, max_workers=1, mb_per_task=float(mb), processors_include=["raster-basic"], overwrite=True)
rows = [r for r in api.load(out)[0].to_pylist() if r["obs_level"] == 0]
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(json.dumps({"rss_mb": int(hwm) / 1024,
                  "rows": {r["file_name"]: [r["error_stage"], r["error"], r["mean_intensity"]] for r in rows}}))
"""
ADDRESS_LIMIT = 3 * 2**30
"""Address space for the subprocess: its imports need about 1.4 GB, so 3 GiB leaves room for
the work and makes any multi-gigabyte allocation fail at once."""


def run_limited(folder: Path, loader: str, mb: float, tmp_path: Path) -> dict:
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    if hard != resource.RLIM_INFINITY and hard < ADDRESS_LIMIT:
        pytest.skip("the address-space limit of this machine is below the test's")
    out = tmp_path / f"r_{loader}_{mb}.parquet"
    proc = subprocess.run(
        [sys.executable, "-c", LIMITED, str(ADDRESS_LIMIT), str(folder), loader, str(out), str(mb)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def huge_declared_strip(path: Path, pad_to: int) -> None:
    """A TIFF declaring 100,000 × 100,000 uint16 pixels (18.6 GiB) in one zlib strip.

    The strip holds a little real data; the file is padded to ``pad_to`` bytes so that the
    ratio of declared pixels to file size (about 1000:1) passes the pipeline's bomb check,
    like a strip of zeros that really decodes to 20 GB would.
    """
    tifffile.imwrite(path, np.zeros((16, 16), np.uint16), photometric="minisblack",
                     compression="zlib", metadata=None)  # fmt: skip
    raw = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tf:
        tags = {t.name: (t.valueoffset, t.dtype) for t in tf.pages.first.tags.values()}
    for name in ("ImageWidth", "ImageLength", "RowsPerStrip"):
        offset, dtype = tags[name]
        fmt = "<I" if dtype == 4 else "<H"
        raw[offset : offset + struct.calcsize(fmt)] = struct.pack(fmt, 100_000 if fmt == "<I" else 50_000)
    path.write_bytes(bytes(raw) + bytes(pad_to - len(raw)))


@pytest.mark.parametrize("loader", ["tifffile", "bioio"])
def test_huge_declared_strip_is_refused_and_memory_stays_bounded(tmp_path: Path, loader: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    huge_declared_strip(data / "bomb.tif", 12 * MIB)
    with tifffile.TiffFile(data / "bomb.tif") as tf:
        width, length = tf.pages.first.imagewidth, tf.pages.first.imagelength
    if loader == "bioio":
        Image.fromarray(np.full((8, 8), 5, np.uint8)).save(data / "fine.png")
    got = run_limited(data, loader, 64, tmp_path)
    stage, error, _ = got["rows"]["bomb.tif"]
    need = -(-width * length * 2 // MIB)
    assert stage == "header"
    assert error == (
        f"a strip (ADOBE_DEFLATE compression) of this image decodes to {width * length * 2 / 2**30:.1f} GiB "
        f"at once, more than the memory budget of 64.0 MiB per task; run with --mb-per-task {need} or more to read it"
    )
    assert got["rss_mb"] < 400  # the imports take about 150 MB; nothing was decoded
    if loader == "bioio":
        assert got["rows"]["fine.png"] == [None, None, 5.0]


def test_uncompressed_single_strip_is_processed_within_the_budget(tmp_path: Path) -> None:
    """A 64 MiB image in one uncompressed strip, 4 MiB per task: regions read only their rows.

    Peak memory is compared with the same run on a small file: reading the strip whole for
    each region (as before) adds at least 64 MiB; reading the regions adds a few budgets.
    """
    big, small = tmp_path / "big", tmp_path / "small"
    big.mkdir()
    small.mkdir()
    data = (np.arange(4096 * 8192, dtype=np.uint32) % 1009).astype(np.uint16).reshape(4096, 8192)
    tifffile.imwrite(big / "raw.tif", data, photometric="minisblack", rowsperstrip=4096, metadata=None)
    tifffile.imwrite(small / "raw.tif", data[:64], photometric="minisblack", metadata=None)
    expected = float(data.mean())
    del data
    base = run_limited(small, "tifffile", 4, tmp_path)
    got = run_limited(big, "tifffile", 4, tmp_path)
    stage, error, mean = got["rows"]["raw.tif"]
    assert stage is None and error is None and mean == pytest.approx(expected)
    assert got["rss_mb"] - base["rss_mb"] < 40, (got, base)


def test_jpeg_tile_bomb_is_refused_without_allocating(tmp_path: Path) -> None:
    """A 16-row JPEG strip whose header claims 60000 × 60000 pixels (3.4 GB when decoded)."""
    data = tmp_path / "data"
    data.mkdir()
    path = data / "jpeg.tif"
    tifffile.imwrite(path, np.full((2, 40, 48), 100, np.uint8), photometric="minisblack",
                     compression="jpeg", rowsperstrip=16, metadata=None)  # fmt: skip
    raw = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tf:
        sof = raw.index(b"\xff\xc0", tf.pages.first.dataoffsets[0])
    raw[sof + 5 : sof + 9] = (60000).to_bytes(2, "big") * 2
    path.write_bytes(bytes(raw))
    got = run_limited(data, "tifffile", 1, tmp_path)
    stage, error, _ = got["rows"]["jpeg.tif"]
    assert stage == "load"
    assert error == (
        "ValueError: a strip declares 60000×60000 pixels in its codec header, more than the "
        "16×48 of a strip; the file is damaged"
    )
