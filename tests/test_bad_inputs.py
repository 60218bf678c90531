"""A corpus of bad input: every file gives correct rows or one error row; nothing else is lost."""

from __future__ import annotations

import os
import re
import shutil
import struct
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import tifffile
from PIL import Image
from realdata import require

from pixel_patrol_base import api
from pixel_patrol_base.discovery import FileEntry
from pixel_patrol_base.pipeline import build_context
from pixel_patrol_base.planning import FileRef
from pixel_patrol_base.project import Project
from pixel_patrol_base.rows import RowBuffer
from pixel_patrol_base.settings import ProcessingSettings
from pixel_patrol_base.worker import TaskStats, process_file

GOOD = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)


def bomb(path: Path) -> None:
    """A valid 1×1 TIFF whose header is patched to claim 100,000 × 65,535 pixels."""
    tifffile.imwrite(path, np.zeros((1, 1), np.uint8))
    raw = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tf:
        tags = [(t.name, t.valueoffset, t.dtype) for t in tf.pages[0].tags.values()]
    for name, off, dtype in tags:
        if name in ("ImageWidth", "ImageLength"):
            fmt = "<I" if dtype == 4 else "<H"
            raw[off : off + struct.calcsize(fmt)] = struct.pack(fmt, 100_000 if fmt == "<I" else 65_535)
    path.write_bytes(bytes(raw))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    b = tmp_path / "bad"
    b.mkdir()
    tifffile.imwrite(b / "good.tif", GOOD)
    data = (b / "good.tif").read_bytes()
    (b / "truncated.tif").write_bytes(data[: len(data) // 2])
    Image.fromarray(np.full((32, 32), 7, np.uint8)).save(b / "good.png")
    png = bytearray((b / "good.png").read_bytes())
    i = png.find(b"IDAT")
    png[i + 10 : i + 20] = b"\xff" * 10
    (b / "corrupt.png").write_bytes(bytes(png))
    (b / "text.tif").write_bytes(b"not a tiff at all " * 10)
    (b / "empty.png").write_bytes(b"")
    bomb(b / "bomb.tif")
    tifffile.imwrite(b / "allnan.tif", np.full((2, 16, 16), np.nan, np.float32), photometric="minisblack")
    (b / os.fsdecode(b"latin1_\xe9.tif")).write_bytes(data)
    (b / ("L" * 200 + ".tif")).write_bytes(data)
    os.symlink(b, b / "loop")
    return b


EXPECTED = {
    "good.tif": None,
    "truncated.tif": "header",  # its pixel data ends past the end of the file: found on opening
    "good.png": None,
    "corrupt.png": "load",  # Pillow reads the header lazily; the damage shows when decoding
    "text.tif": "header",
    "empty.png": "header",
    "bomb.tif": "header",
    "allnan.tif": None,
    "latin1_\\xe9.tif": None,
    "L" * 200 + ".tif": None,
}


@pytest.mark.parametrize("workers", [1, 2])
def test_bad_input_corpus(corpus: Path, tmp_path: Path, workers: int) -> None:
    project = api.create_project("bad", corpus, loader="bioio", output_path=tmp_path / "r.parquet")
    api.process_files(project, max_workers=workers, processors_include=["raster-basic", "raster-histogram"])
    rows = [r for r in api.load(project.output_path)[0].to_pylist() if r["obs_level"] == 0]
    got = {r["file_name"]: r["error_stage"] for r in rows}
    assert got == EXPECTED
    by = {r["file_name"]: r for r in rows}
    # the loader finds on opening that the declared pixels cannot be in a file of this size
    assert by["bomb.tif"]["error"].startswith("incomplete file: 0 of 1 planes readable (the file ends at byte")
    assert by["empty.png"]["error"] == "empty file (0 bytes)"
    for name in ("good.tif", "latin1_\\xe9.tif", "L" * 200 + ".tif"):
        assert by[name]["mean_intensity"] == pytest.approx(GOOD.mean())
    assert by["good.png"]["mean_intensity"] == 7.0
    nan = by["allnan.tif"]
    assert nan["finite_pixel_count"] == 0 and nan["mean_intensity"] is None
    assert nan["histogram_nan_count"] == 512
    assert all("\n" not in (r["error"] or "") for r in rows)
    summary = api.last_summary()
    assert summary is not None and summary.errors == 5 and summary.files == 10


def test_file_deleted_after_discovery(tmp_path: Path) -> None:
    gone = FileEntry(str(tmp_path / "gone.tif"), str(tmp_path), ".", 100, 0)
    project = Project("p", tmp_path, tmp_path / "r.parquet", loader="tifffile")
    ctx = build_context(project, ProcessingSettings(processors_include=("raster-basic",)))
    buf = RowBuffer(ctx.part_schema)
    stats = TaskStats()
    assert process_file(FileRef(0, gone), ctx, ctx.processors, buf, stats) is None
    row = buf.to_table().to_pylist()[0]
    assert row["error_stage"] == "header"
    assert row["error"].startswith("FileNotFoundError") and "gone.tif" in row["error"]
    assert stats.errors == 1 and stats.files == 1


def test_zarr_with_missing_chunks_reads_fill_values(tmp_path: Path) -> None:
    src = require("ome-zarr/viv_blobs_image_v04.ome.zarr")
    store = tmp_path / "d" / "img.ome.zarr"
    shutil.copytree(src, store)
    chunks = [p for p in store.rglob("*") if p.is_file() and not p.name.startswith(".") and p.name != "zarr.json"]
    chunks[0].unlink()
    project = api.create_project("z", tmp_path / "d", loader="zarr", output_path=tmp_path / "r.parquet")
    api.process_files(project, max_workers=1, processors_include=["raster-basic"])
    table: pa.Table = api.load(project.output_path)[0]
    row0 = table.to_pylist()[0]
    assert row0["error"] is None and row0["obs_level"] == 0
    assert row0["finite_pixel_count"] == 3 * 12 * 12


def test_check_plausible_refuses_declared_size_far_beyond_file(tmp_path: Path) -> None:
    """The pipeline's own guard, for loaders that do not check their headers themselves."""
    from pixel_patrol_base.contracts import ImageHeader
    from pixel_patrol_base.errors import ImageReadError
    from pixel_patrol_base.worker import check_plausible

    class Closed:
        closed = False

        def close(self) -> None:
            self.closed = True

    ref = FileRef(0, FileEntry(str(tmp_path / "x.img"), str(tmp_path), ".", 1000, 0))
    f = Closed()
    huge = ImageHeader("YX", (100_000, 100_000), "uint16")
    with pytest.raises(ImageReadError, match=re.escape("header declares 20.0 GB of pixels in a 1.0 kB file")):
        check_plausible(ref, [huge], f)  # type: ignore[arg-type]
    assert f.closed
    check_plausible(ref, [ImageHeader("YX", (1000, 1000), "uint16")], Closed())  # type: ignore[arg-type]


@pytest.mark.parametrize("loader", ["bioio", "tifffile"])
def test_truncated_stack_is_an_error_row_not_a_smaller_image(tmp_path: Path, loader: str) -> None:
    """A 4-plane ImageJ stack cut after its second plane: one error row, no statistics."""
    data = tmp_path / "data"
    data.mkdir()
    stack = np.arange(4 * 32 * 48, dtype=np.uint16).reshape(4, 32, 48)
    tifffile.imwrite(data / "stack.tif", stack, imagej=True, metadata={"axes": "ZYX"})
    with tifffile.TiffFile(data / "stack.tif") as tf:
        end = tf.pages.first.dataoffsets[0] + 2 * stack[0].nbytes
    (data / "cut.tif").write_bytes((data / "stack.tif").read_bytes()[:end])
    project = api.create_project("t", data, loader=loader, output_path=tmp_path / "r.parquet")
    api.process_files(project, max_workers=1, processors_include=["raster-basic"])
    rows = api.load(project.output_path)[0].to_pylist()
    cut = [r for r in rows if r["file_name"] == "cut.tif"]
    assert len(cut) == 1 and cut[0]["error_stage"] == "header" and cut[0]["reader"] == "tifffile"
    assert cut[0]["error"] == "incomplete file: 2 of 4 planes readable (its ImageJ metadata declares 4)"
    assert cut[0]["mean_intensity"] is None and cut[0]["dim_order"] is None
    whole = [r for r in rows if r["file_name"] == "stack.tif" and r["obs_level"] == 0]
    assert whole[0]["error"] is None and whole[0]["Z_size"] == 4
    assert whole[0]["mean_intensity"] == pytest.approx(stack.mean())


def budget_corpus(folder: Path) -> dict[str, np.ndarray]:
    """16 MiB images stored in pieces of different sizes, and a 2 MiB PNG."""
    folder.mkdir()
    data = (np.arange(2048 * 4096, dtype=np.uint32) % 251).astype(np.uint16).reshape(2048, 4096)
    kw = {"photometric": "minisblack", "metadata": None}
    tifffile.imwrite(folder / "one_zlib_strip.tif", data, compression="zlib", rowsperstrip=2048, **kw)
    tifffile.imwrite(folder / "small_strips.tif", data, compression="zlib", rowsperstrip=16, **kw)
    tifffile.imwrite(folder / "tiles.tif", data, compression="zstd", tile=(256, 256), **kw)
    tifffile.imwrite(folder / "one_raw_strip.tif", data, rowsperstrip=2048, **kw)
    png = np.full((1024, 2048), 9, np.uint8)
    Image.fromarray(png).save(folder / "big.png")
    return {"small_strips.tif": data, "tiles.tif": data, "one_raw_strip.tif": data}


def test_mb_per_task_bounds_decoding_through_the_cli(tmp_path: Path) -> None:
    """`--mb-per-task 1`: pieces over 1 MiB are error rows saying so, the rest is exact."""
    from typer.testing import CliRunner

    from pixel_patrol_base.cli import app

    readable = budget_corpus(tmp_path / "d")
    out = tmp_path / "r.parquet"
    res = CliRunner().invoke(app, ["process", str(tmp_path / "d"), "-o", str(out), "--loader", "bioio",
                                   "--mb-per-task", "1", "--max-workers", "1", "--processors-include", "raster-basic"])  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = {r["file_name"]: r for r in api.load(out)[0].to_pylist() if r["obs_level"] == 0}
    budget = "more than the memory budget of 1.0 MiB per task"
    strip = rows["one_zlib_strip.tif"]
    assert strip["error_stage"] == "header" and strip["reader"] == "tifffile"
    assert strip["error"] == (
        f"a strip (ADOBE_DEFLATE compression) of this image decodes to 16.0 MiB at once, {budget}; "
        "run with --mb-per-task 16 or more to read it"
    )
    png = rows["big.png"]
    assert png["error_stage"] == "header" and png["reader"] == "pillow"
    assert png["error"] == (
        f"this PNG file, which Pillow can only decode whole, is 2.0 MiB, {budget}; "
        "run with --mb-per-task 2 or more to read it"
    )
    for name, data in readable.items():
        row = rows[name]
        assert row["error"] is None, (name, row["error"])
        assert row["mean_intensity"] == pytest.approx(float(data.mean()))
        assert (row["min_intensity"], row["max_intensity"]) == (float(data.min()), float(data.max()))
