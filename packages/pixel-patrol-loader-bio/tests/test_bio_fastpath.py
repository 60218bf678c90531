"""The bioio loader's own decoding (tifffile, Pillow, zarr) reports what bioio's plugins report.

Every real-data TIFF, PNG/JPEG/BMP and OME-Zarr, and synthetic files covering the layouts the
plugins treat differently (planar RGB, unknown axes, OME RGB, palettes, 16-bit PNG ...), are
opened both ways: headers, metadata (except ``reader``), full reads and region reads must be
identical. The plugin path is what the loader used before, so this pins existing reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from PIL import Image
from realdata import listing

from pixel_patrol_base.discovery import path_extension
from pixel_patrol_base.errors import ImageReadError
from pixel_patrol_loader_bio import _bioio_plugin
from pixel_patrol_loader_bio._bioio_axes import (
    imageio_plugin_axes,
    ome_tiff_plugin_axes,
    ome_zarr_plugin_axes,
    tifffile_plugin_axes,
)
from pixel_patrol_loader_bio._bioio_select import BY_EXTENSION, TIFF_FAMILY
from pixel_patrol_loader_bio._errors import NeedsPlugin
from pixel_patrol_loader_bio._omexml import OmeImage
from pixel_patrol_loader_bio.bioio_loader import BioioLoader

RNG = np.random.default_rng(11)


# --- the plugins' axis rules -------------------------------------------------------------


@pytest.mark.parametrize(
    ("axes", "labels"),
    [
        ("YX", "YX"),
        ("SYX", "SYX"),  # planar RGB stays in storage order under bioio-tifffile
        ("QYX", "ZYX"),  # Q takes the first letter of the rank's guess ZYX not in use
        ("QSYX", "CSYX"),  # guess CZYX: C is free (skimage_multipage_rgb.tif)
        ("QQSYX", "TCSYX"),
        ("QYXS", "CYXS"),
        ("TZCYX", "TZCYX"),
    ],
)
def test_tifffile_plugin_axes(axes: str, labels: str) -> None:
    assert "".join(tifffile_plugin_axes(axes)) == labels


def test_tifffile_plugin_axes_it_cannot_name_need_the_plugin() -> None:
    with pytest.raises(NeedsPlugin):
        tifffile_plugin_axes("QQQQYX")  # bioio runs out of letters and repeats Q


def ome(order: str = "XYZCT", channels: int = 1, spp: int | None = 1, **sizes: int) -> OmeImage:
    full = {"T": 1, "C": 1, "Z": 1, "Y": 20, "X": 30, **sizes}
    return OmeImage(None, {}, "Image:0", order, full, channels, spp)


@pytest.mark.parametrize(
    ("axes", "image", "labels", "perm"),
    [
        ("CZYX", ome(C=2, Z=4), "CZYX", (0, 1, 2, 3)),
        ("ZCYX", ome(C=2, Z=4), "CZYX", (1, 0, 2, 3)),  # reshaped to TCZYX order
        ("YXS", ome(C=3, spp=3), "YXS", (0, 1, 2)),  # one RGB channel: S appended
        ("SYX", ome(C=3, spp=3), "YXS", (1, 2, 0)),  # planar RGB: samples moved last
        ("TYXS", ome(C=3, spp=3, T=2), "TYXS", (0, 1, 2, 3)),
        ("YXS", ome(C=3, channels=3, spp=3), "CYX", (2, 0, 1)),  # S is OME's C
    ],
)
def test_ome_tiff_plugin_axes(axes: str, image: OmeImage, labels: str, perm: tuple) -> None:
    got_labels, got_perm = ome_tiff_plugin_axes(axes, image)
    assert ("".join(got_labels), got_perm) == (labels, perm)


@pytest.mark.parametrize(
    ("axes", "image"),
    [
        ("QYX", ome(Z=3)),  # a stored axis OME does not name
        ("ZYX", ome()),  # OME says SizeZ=1 but Z is stored
        ("YX", ome(Z=3)),  # OME says SizeZ=3 but Z is not stored
        ("YX", ome(order="XYZC")),  # not a valid DimensionOrder
        ("YX", ome(channels=0)),  # no <Channel>: the plugin fails on channels[0]
    ],
)
def test_ome_tiff_layouts_the_plugin_mangles_need_the_plugin(axes: str, image: OmeImage) -> None:
    with pytest.raises(NeedsPlugin):
        ome_tiff_plugin_axes(axes, image)


def test_imageio_and_ome_zarr_plugin_axes() -> None:
    assert imageio_plugin_axes((5, 6)) == ["Y", "X"]
    assert imageio_plugin_axes((5, 6, 2)) == ["Y", "X", "S"]  # LA is two samples
    assert imageio_plugin_axes((3, 5, 6)) == ["T", "Y", "X"]
    named = {"axes": [{"name": "c"}, {"name": "time"}, {"name": "y"}, {"name": "x"}]}
    assert ome_zarr_plugin_axes(named, 4) == ["C", "TIME", "Y", "X"]
    assert ome_zarr_plugin_axes({}, 3) == ["Z", "Y", "X"]  # NGFF v0.1: bioio guesses
    with pytest.raises(NeedsPlugin):
        ome_zarr_plugin_axes({"axes": ["z", "y", "x"]}, 3)  # v0.3 strings: the plugin fails
    with pytest.raises(NeedsPlugin):
        ome_zarr_plugin_axes({"axes": [{"name": "y"}, {"name": "x"}]}, 3)


# --- synthetic files ---------------------------------------------------------------------


def u8(*shape: int) -> np.ndarray:
    return RNG.integers(0, 255, shape, dtype=np.uint8)


def u16(*shape: int) -> np.ndarray:
    return RNG.integers(0, 65535, shape, dtype=np.uint16)


def two_series(path: Path) -> None:
    with tifffile.TiffWriter(path) as tw:
        tw.write(u8(20, 30, 3), photometric="rgb")
        tw.write(u16(2, 10, 12))


def ome_two_images(path: Path) -> None:
    with tifffile.TiffWriter(path, ome=True) as tw:
        tw.write(u16(2, 16, 16), metadata={"axes": "CYX", "Name": "first"})
        tw.write(u8(3, 8, 8), metadata={"axes": "ZYX"})  # unnamed: id Image1


def with_preview(path: Path) -> None:
    with tifffile.TiffWriter(path) as tw:
        tw.write(u16(64, 64))
        tw.write(u8(16, 16), subfiletype=1)


def palette(rgb: np.ndarray) -> Image.Image:
    return Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)


def save(im: Callable[[], Image.Image], **kw: Any) -> Callable[[Path], None]:
    return lambda path: im().save(path, **kw)


def tif(data: Callable[[], np.ndarray], **kw: Any) -> Callable[[Path], None]:
    return lambda path: tifffile.imwrite(path, data(), **kw)


TIFFS: dict[str, Callable[[Path], None]] = {
    "planar_rgb.tif": tif(lambda: u8(3, 20, 30), photometric="rgb", planarconfig="separate"),
    "contig_rgb.tif": tif(lambda: u8(20, 30, 3), photometric="rgb"),
    "stack_qq.tif": tif(lambda: u16(2, 4, 20, 30), photometric="minisblack"),  # QQYX -> CZYX
    "stack5d.tif": tif(lambda: u8(2, 3, 4, 8, 9), photometric="minisblack"),  # QQQYX -> TCZYX
    "planar_rgb_stack.tif": tif(lambda: u8(4, 3, 20, 30), photometric="rgb",
                                planarconfig="separate"),  # QSYX -> CSYX
    "rgb_stack.tif": tif(lambda: u8(4, 20, 30, 3), photometric="rgb"),  # QYXS
    "imagej_tzcyx.tif": tif(lambda: u16(3, 4, 2, 10, 11), imagej=True,
                            metadata={"axes": "TZCYX", "spacing": 2.5, "unit": "um"},
                            resolution=(2.0, 2.0)),
    "imagej_rgb.tif": tif(lambda: u8(5, 10, 11, 3), imagej=True, photometric="rgb"),
    "tiled_big.tif": tif(lambda: u16(3, 64, 80), tile=(32, 32), bigtiff=True,
                         compression="zlib", photometric="minisblack"),
    "bool.tif": tif(lambda: RNG.integers(0, 2, (16, 16)).astype(bool)),
    "two_series.tif": two_series,
    "preview.tif": with_preview,
    "ome_czyx.ome.tif": tif(lambda: u16(2, 4, 16, 16),
                            metadata={"axes": "CZYX", "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25,
                                      "PhysicalSizeZ": 2.0, "Channel": {"Name": ["DAPI", "GFP"]}}),
    "ome_zcyx.ome.tif": tif(lambda: u8(3, 2, 8, 9), metadata={"axes": "ZCYX"}),
    "ome_tzcyx.ome.tif": tif(lambda: u8(2, 3, 2, 8, 9), metadata={"axes": "TZCYX"}),
    "ome_rgb.ome.tif": tif(lambda: u8(20, 30, 3), photometric="rgb", metadata={"axes": "YXS"}),
    "ome_rgb_planar.ome.tif": tif(lambda: u8(3, 20, 30), photometric="rgb",
                                  planarconfig="separate", metadata={"axes": "SYX"}),
    "ome_trgb.ome.tif": tif(lambda: u8(2, 20, 30, 3), photometric="rgb", metadata={"axes": "TYXS"}),
    "ome_two.ome.tif": ome_two_images,
}  # fmt: skip

PILLOW: dict[str, Callable[[Path], None]] = {
    "l.png": save(lambda: Image.fromarray(u8(20, 30))),
    "i16.png": save(lambda: Image.fromarray(u16(20, 30))),
    "rgb.png": save(lambda: Image.fromarray(u8(20, 30, 3))),
    "rgba.png": save(lambda: Image.fromarray(u8(20, 30, 4))),
    "p.png": save(lambda: palette(u8(20, 30, 3))),
    "p_transparent.png": save(lambda: palette(u8(20, 30, 3)), transparency=3),
    "la.png": save(lambda: Image.merge("LA", [Image.fromarray(u8(20, 30))] * 2)),
    "one.png": save(lambda: Image.fromarray(u8(20, 30) > 128)),
    "l.jpg": save(lambda: Image.fromarray(u8(20, 30))),
    "rgb.jpeg": save(lambda: Image.fromarray(u8(20, 30, 3))),
    "cmyk.jpg": save(lambda: Image.fromarray(u8(20, 30, 3)).convert("CMYK")),
    "rgb.bmp": save(lambda: Image.fromarray(u8(20, 30, 3))),
    "p.bmp": save(lambda: palette(u8(20, 30, 3))),
    "one.bmp": save(lambda: Image.fromarray(u8(20, 30) > 128)),
}

PILLOW_MODES = ["l.png", "i16.png", "rgb.png", "rgba.png", "p.png", "la.png", "one.png"]
"""One synthetic file per Pillow mode the brief of this path names: L, I;16, RGB, RGBA, P, LA, 1."""


def write_ngff(store: Path, data: np.ndarray, axes: list[str] | None, zarr_format: int = 2) -> None:
    import zarr

    root = zarr.open_group(str(store), mode="w", zarr_format=zarr_format)
    chunks = (1,) * (data.ndim - 2) + data.shape[-2:]
    root.create_array("0", data=data, chunks=chunks)
    ms: dict[str, Any] = {"version": "0.4" if axes else "0.1", "datasets": [{"path": "0"}]}
    if axes:
        ms["axes"] = [{"name": a, "type": "space" if a in "zyx" else "channel"} for a in axes]
    if zarr_format == 3:
        root.attrs["ome"] = {"version": "0.5", "multiscales": [{**ms, "version": "0.5"}]}
    else:
        root.attrs["multiscales"] = [ms]


STORES: dict[str, Callable[[Path], None]] = {
    "czyx.ome.zarr": lambda p: write_ngff(p, u8(2, 3, 10, 12), ["c", "z", "y", "x"]),
    "cyx_v3.ome.zarr": lambda p: write_ngff(p, u16(2, 10, 12), ["c", "y", "x"], zarr_format=3),
    "v01.zarr": lambda p: write_ngff(p, u8(1, 2, 1, 8, 9), None),
}

SYNTHETIC = {**TIFFS, **PILLOW, **STORES}
REAL_DIRS = ("tiff", "ome-tiff", "imagej-tiff", "lsm", "png-jpeg-bmp", "ome-zarr")


@pytest.fixture
def sample(tmp_path: Path, real_copy) -> Callable[[str], Path]:
    """A synthetic file by name, or a private copy of a real-data file by relative path."""

    def make(name: str) -> Path:
        if "/" in name:
            return real_copy(name)
        path = tmp_path / name
        SYNTHETIC[name](path)
        return path

    return make


# --- fast path versus plugin -------------------------------------------------------------


def open_with_plugin(path: str) -> Any:
    """The file read as before: through the bioio plugin the loader would choose."""
    if os.path.isdir(path):
        return _bioio_plugin.open_ome_zarr_with_plugin(path)
    if path_extension(path) in TIFF_FAMILY:
        return _bioio_plugin.open_tiff_with_plugin(path)
    return _bioio_plugin.open_with_plugin(path, BY_EXTENSION[path_extension(path)])


def snapshot(f: Any) -> list[tuple[Any, ...]]:
    """Headers, metadata without ``reader``, full read and a middle-third region read."""
    out = []
    for i, h in enumerate(f.images):
        meta = {k: v for k, v in h.metadata.items() if k != "reader"}
        region = tuple(slice(n // 3, max(n // 3 + 1, 2 * n // 3)) for n in h.shape)
        out.append((h.dim_order, h.shape, h.dtype, h.child_id, meta, f.read(i), f.read(i, region)))
    return out


def same_arrays(a: np.ndarray, b: np.ndarray) -> bool:
    """Same dtype, shape and bytes (so NaNs compare equal)."""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


FAST_READER = {"png": "pillow", "jpg": "pillow", "jpeg": "pillow", "bmp": "pillow"}


@pytest.mark.parametrize("name", [*listing(*REAL_DIRS), *SYNTHETIC])
def test_fast_path_reports_what_the_plugin_reports(name: str, sample) -> None:
    path = str(sample(name))
    with BioioLoader().open(path) as f:
        fast = snapshot(f)
        readers = {h.metadata["reader"] for h in f.images}
    want = "zarr" if os.path.isdir(path) else FAST_READER.get(path_extension(path), "tifffile")
    assert readers == {want}
    with open_with_plugin(path) as f:
        plugin = snapshot(f)
    assert [s[:5] for s in fast] == [s[:5] for s in plugin]
    for got, ref in zip(fast, plugin, strict=True):
        assert same_arrays(got[5], ref[5]) and same_arrays(got[6], ref[6])


def test_planar_rgb_keeps_the_layouts_bioio_gave(sample) -> None:
    """Plain TIFF: storage order as bioio-tifffile; OME-TIFF: samples last as bioio-ome-tiff."""
    with BioioLoader().open(str(sample("planar_rgb.tif"))) as f:
        assert (f.images[0].dim_order, f.images[0].shape) == ("SYX", (3, 20, 30))
    path = sample("ome_rgb_planar.ome.tif")
    with BioioLoader().open(str(path)) as f:
        assert (f.images[0].dim_order, f.images[0].shape) == ("YXS", (20, 30, 3))
        assert np.array_equal(f.read(0), np.moveaxis(tifffile.imread(path), 0, -1))
        assert np.array_equal(f.read(0, (slice(2, 5), slice(None), slice(1, 2)))[..., 0],
                              tifffile.imread(path)[1, 2:5])  # fmt: skip


@pytest.mark.parametrize("name", [*listing("png-jpeg-bmp"), *PILLOW_MODES])
def test_pillow_matches_bioio_imageio_reader(name: str, sample) -> None:
    import bioio_imageio

    path = str(sample(name))
    reader = bioio_imageio.Reader(path)
    want = np.asarray(reader.data)
    with BioioLoader().open(path) as f:
        h, got = f.images[0], f.read(0)
    assert (h.dim_order, h.shape, h.dtype) == (
        "".join(reader.dims.order),
        want.shape,
        want.dtype.name,
    )
    assert got.dtype == want.dtype and np.array_equal(got, want)


def test_pillow_modes_give_imageio_dtypes(sample) -> None:
    """What each mode becomes, spelt out (the comparison above only says 'the same')."""
    got = {}
    for name in PILLOW_MODES:
        with BioioLoader().open(str(sample(name))) as f:
            got[name] = (f.images[0].dim_order, f.images[0].dtype, f.images[0].shape[-1])
    assert got == {
        "l.png": ("YX", "uint8", 30), "i16.png": ("YX", "uint16", 30),
        "rgb.png": ("YXS", "uint8", 3), "rgba.png": ("YXS", "uint8", 4),
        "p.png": ("YXS", "uint8", 3), "la.png": ("YXS", "uint8", 2), "one.png": ("YX", "bool", 30),
    }  # fmt: skip


# --- what still goes through a plugin ------------------------------------------------------


def test_animated_png_goes_to_the_plugin(tmp_path: Path) -> None:
    path = tmp_path / "anim.png"
    frames = [Image.fromarray(u8(20, 30, 3)) for _ in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    with BioioLoader().open(str(path)) as f:
        h = f.images[0]
        assert (h.dim_order, h.shape, h.metadata["reader"]) == (
            "TYXS",
            (3, 20, 30, 3),
            "bioio-imageio",
        )
        assert np.array_equal(f.read(0)[1], np.asarray(frames[1]))


def test_unnameable_tiff_axes_go_to_the_plugin(tmp_path: Path) -> None:
    """Four unknown axes: bioio-tifffile repeats Q and fails, as it did before."""
    path = tmp_path / "six.tif"
    tifffile.imwrite(path, u8(2, 2, 3, 2, 8, 9))
    with pytest.raises(ImageReadError) as info:
        BioioLoader().open(str(path))
    assert info.value.reader == "bioio-tifffile"


def test_ngff_string_axes_go_to_the_plugin(tmp_path: Path) -> None:
    store = tmp_path / "v03.zarr"
    write_ngff(store, u8(2, 8, 9), ["c", "y", "x"])
    attrs = json.loads((store / ".zattrs").read_text())
    attrs["multiscales"][0]["axes"] = ["c", "y", "x"]
    (store / ".zattrs").write_text(json.dumps(attrs))
    with pytest.raises(ImageReadError) as info:
        BioioLoader().open(str(store))
    assert info.value.reader == "bioio-ome-zarr"


def test_ome_xml_the_schema_rejects_is_read_like_the_tifffile_loader(tmp_path: Path) -> None:
    """bioio-ome-tiff validated OME-XML and failed the file; tifffile's parse reads it.

    A negative PhysicalSizeX (a top-down stack) breaks validation; the value is reported as
    its absolute value, as by the ``tifffile`` loader.
    """
    path = tmp_path / "negative.ome.tif"
    tifffile.imwrite(path, u8(2, 8, 9), metadata={"axes": "CYX", "PhysicalSizeX": 0.5})
    with tifffile.TiffFile(path) as tf:
        xml = tf.pages[0].description.replace('PhysicalSizeX="0.5"', 'PhysicalSizeX="-0.5"')
    tifffile.imwrite(path, u8(2, 8, 9), description=xml, metadata=None)
    with pytest.raises(ImageReadError, match="validation"):
        _bioio_plugin.open_tiff_with_plugin(str(path))
    with BioioLoader().open(str(path)) as f:
        h = f.images[0]
    assert (h.dim_order, h.shape, h.metadata["pixel_size_X"]) == ("CYX", (2, 8, 9), 0.5)


# --- imports -------------------------------------------------------------------------------

HEAVY = ("bioio", "bioio_base", "xarray", "dask", "pandas")


@pytest.mark.parametrize("name", ["tiled_big.tif", "ome_rgb_planar.ome.tif", "rgb.png", "p.bmp",
                                  "czyx.ome.zarr"])  # fmt: skip
def test_fast_path_imports_no_bioio_xarray_dask_or_pandas(name: str, sample) -> None:
    path = str(sample(name))
    code = (
        "import sys; from pixel_patrol_loader_bio.bioio_loader import BioioLoader;"
        f"f = BioioLoader().open({path!r}); f.read(0);"
        "f.read(0, tuple(slice(0, max(1, n // 2)) for n in f.images[0].shape)); f.close();"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
