"""Unreadable input: always ImageReadError (one line, reader named), never another exception."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from pixel_patrol_base.errors import MAX_CAUSE, ImageReadError, MissingDependencyError
from pixel_patrol_base.formats import install_hint
from pixel_patrol_loader_bio import _errors
from pixel_patrol_loader_bio.bioio_loader import BioioLoader
from pixel_patrol_loader_bio.tifffile_loader import TifffileLoader
from pixel_patrol_loader_bio.zarr_loader import ZarrLoader


def open_and_read(loader, path: Path) -> None:
    with loader.open(str(path)) as f:
        for i in range(len(f.images)):
            f.read(i)


def assert_read_error(loader, path: Path, reader: str) -> ImageReadError:
    with pytest.raises(ImageReadError) as info:
        open_and_read(loader, path)
    err = info.value
    assert err.reader == reader
    assert err.path == str(path)
    assert "\n" not in str(err) and len(err.cause) <= MAX_CAUSE
    return err


def write_tif(path: Path) -> Path:
    tifffile.imwrite(path, np.arange(64 * 64, dtype=np.uint16).reshape(64, 64))
    return path


# The bioio loader decodes TIFFs with tifffile itself, so tifffile is the reader named.
@pytest.mark.parametrize(
    ("loader", "reader"), [(TifffileLoader(), "tifffile"), (BioioLoader(), "tifffile")]
)
def test_zero_byte_tiff(tmp_path: Path, loader, reader: str) -> None:
    path = tmp_path / "empty.tif"
    path.write_bytes(b"")
    assert_read_error(loader, path, reader)


@pytest.mark.parametrize(
    ("loader", "reader"), [(TifffileLoader(), "tifffile"), (BioioLoader(), "tifffile")]
)
def test_truncated_tiff(tmp_path: Path, loader, reader: str) -> None:
    path = write_tif(tmp_path / "cut.tif")
    path.write_bytes(path.read_bytes()[:4000])  # header and IFD survive, pixel data does not
    assert_read_error(loader, path, reader)


@pytest.mark.parametrize(
    ("loader", "reader"), [(TifffileLoader(), "tifffile"), (BioioLoader(), "tifffile")]
)
def test_png_named_tif(tmp_path: Path, loader, reader: str) -> None:
    path = tmp_path / "really_a_png.tif"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(path, format="PNG")
    err = assert_read_error(loader, path, reader)
    # the cause names the failing check and the bytes found (a PNG signature, not a TIFF header)
    assert err.cause.startswith("TiffFileError: not a TIFF file")
    assert "PNG" in err.cause


@pytest.mark.parametrize(
    ("name", "reader"),
    [("x.png", "pillow"), ("x.jpeg", "pillow"), ("x.bmp", "pillow"), ("x.czi", "bioio-czi"),
     ("x.nd2", "bioio-nd2"), ("x.lif", "bioio-lif"), ("x.ome.tif", "tifffile")],
)  # fmt: skip
def test_garbage_bytes_in_bioio_formats(tmp_path: Path, name: str, reader: str) -> None:
    """The library that failed is named; an unreadable file is not retried with a plugin."""
    path = tmp_path / name
    path.write_bytes(b"this is not an image\n" * 50)
    assert_read_error(BioioLoader(), path, reader)


def test_truncated_png_fails_on_read(tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    noise = np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)
    Image.fromarray(noise).save(path)  # noise does not compress: the cut loses pixel rows
    path.write_bytes(path.read_bytes()[:2000])
    with BioioLoader().open(str(path)) as f:
        assert f.images[0].shape == (64, 64)  # the header survives; opening decodes nothing
        with pytest.raises(ImageReadError) as info:
            f.read(0)
    assert info.value.reader == "pillow"


def test_unknown_extension_for_bioio(tmp_path: Path) -> None:
    path = tmp_path / "notes.xyz"
    path.write_text("hello")
    err = assert_read_error(BioioLoader(), path, "bioio")
    assert ".xyz" in err.cause


def test_zarr_not_a_store_and_broken_metadata(tmp_path: Path) -> None:
    empty = tmp_path / "empty.zarr"
    empty.mkdir()
    assert "not a Zarr store" in assert_read_error(ZarrLoader(), empty, "zarr").cause
    broken = tmp_path / "broken.zarr"
    broken.mkdir()
    (broken / ".zarray").write_text("{not json")
    assert_read_error(ZarrLoader(), broken, "zarr")
    assert_read_error(BioioLoader(), empty, "zarr")  # the bioio loader reads OME-Zarr with zarr


def test_zarr_one_dimensional_array_is_not_an_image(tmp_path: Path) -> None:
    import zarr

    zarr.create_array(str(tmp_path / "line.zarr"), shape=(10,), dtype="u1", zarr_format=2)
    assert "needs 2" in assert_read_error(ZarrLoader(), tmp_path / "line.zarr", "zarr").cause


def test_plain_zarr_array_is_not_for_bioio(tmp_path: Path) -> None:
    import zarr

    zarr.create_array(str(tmp_path / "plain.zarr"), shape=(4, 4), dtype="u1")
    assert "zarr loader" in assert_read_error(BioioLoader(), tmp_path / "plain.zarr", "zarr").cause


def test_corrupt_zarr_chunk_fails_on_read(tmp_path: Path) -> None:
    import zarr

    store = tmp_path / "c.zarr"
    arr = zarr.create_array(str(store), shape=(8, 8), chunks=(4, 4), dtype="u2", zarr_format=3)
    arr[...] = 7
    chunk = next(p for p in store.rglob("*") if p.is_file() and p.name != "zarr.json")
    chunk.write_bytes(b"garbage")
    with ZarrLoader().open(str(store)) as f:
        assert f.images[0].shape == (8, 8)  # opening decodes no chunk
        with pytest.raises(ImageReadError) as info:
            f.read(0)
    assert info.value.reader == "zarr"


def test_metadata_json_not_an_object(tmp_path: Path) -> None:
    store = tmp_path / "odd.zarr"
    store.mkdir()
    (store / "zarr.json").write_text(json.dumps([1, 2, 3]))
    assert_read_error(ZarrLoader(), store, "zarr")


def test_missing_plugin_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = _errors.importlib.import_module

    def fake(name: str, *args, **kwargs):
        if name == "bioio_czi":
            raise ModuleNotFoundError("No module named 'bioio_czi'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(_errors.importlib, "import_module", fake)
    path = tmp_path / "scan.czi"
    path.write_bytes(b"\0" * 100)
    with pytest.raises(MissingDependencyError) as info:
        BioioLoader().open(str(path))
    assert str(info.value) == (
        "bioio-czi is needed to read .czi files but is not installed; "
        + install_hint("pixel-patrol-loader-bio", brings="bioio-czi")
    )
    assert "pip install bioio-czi" not in str(info.value)


def test_read_outside_the_file(tmp_path: Path) -> None:
    path = write_tif(tmp_path / "ok.tif")
    with TifffileLoader().open(str(path)) as f:
        with pytest.raises(IndexError):
            f.read(1)
        with pytest.raises(ValueError, match="3 slices"):
            f.read(0, (slice(None),) * 3)
    with pytest.raises(ValueError, match="closed"):
        f.read(0)
