"""Files written here: layouts the real-data set lacks, and proof that regions decode little."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from pixel_patrol_base.errors import ImageReadError
from pixel_patrol_base.testing import check_loader
from pixel_patrol_loader_bio import _tiffread
from pixel_patrol_loader_bio.bioio_loader import BioioLoader
from pixel_patrol_loader_bio.tifffile_loader import TifffileLoader
from pixel_patrol_loader_bio.zarr_loader import ZarrLoader

RNG = np.random.default_rng(7)


def corrupt_segment(path: Path, page: int, segment: int) -> None:
    """Overwrite one compressed strip/tile with bytes zlib cannot decode."""
    with tifffile.TiffFile(path) as tf:
        p = tf.pages[page]
        off, n = p.dataoffsets[segment], p.databytecounts[segment]
    data = bytearray(path.read_bytes())
    data[off : off + n] = b"\xff" * n
    path.write_bytes(bytes(data))


def test_tiled_tiff_window_decodes_only_its_tiles(tmp_path: Path) -> None:
    a = RNG.integers(0, 60000, (256, 256), dtype=np.uint16)
    path = tmp_path / "tiled.tif"
    tifffile.imwrite(path, a, tile=(64, 64), compression="zlib")
    corrupt_segment(path, 0, 15)  # the bottom-right tile
    with TifffileLoader().open(str(path)) as f:
        assert np.array_equal(f.read(0, (slice(10, 120), slice(0, 190))), a[10:120, :190])
        with pytest.raises(ImageReadError):
            f.read(0)


def test_page_region_reads_only_its_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = RNG.integers(0, 255, (6, 3, 32, 40), dtype=np.uint8)
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, a, imagej=True, metadata={"axes": "TCYX"}, compression="zlib")
    corrupt_segment(path, 17, 0)  # last page: T=5, C=2
    region = (slice(1, 5, 2), slice(0, 3), slice(None), slice(4, 30))
    with BioioLoader().open(str(path)) as f:  # T and C cut, and a window in X
        assert f.images[0].dim_order == "TCYX"
        assert np.array_equal(f.read(0, region), a[region])
        with pytest.raises(ImageReadError):
            f.read(0)
    monkeypatch.setattr(
        _tiffread, "_read_zarr", lambda *a: pytest.fail("whole pages need no zarr view")
    )
    with TifffileLoader().open(str(path)) as f:
        whole_pages = (*region[:2], slice(None), slice(None))
        assert np.array_equal(f.read(0, whole_pages), a[whole_pages])
        with pytest.raises(ImageReadError):
            f.read(0)


def test_bigtiff_rgb_and_float(tmp_path: Path) -> None:
    rgb = RNG.integers(0, 255, (2, 30, 20, 3), dtype=np.uint8)
    path = tmp_path / "big.tif"
    tifffile.imwrite(path, rgb, bigtiff=True, photometric="rgb", metadata={"axes": "TYXS"})
    for loader in (TifffileLoader(), BioioLoader()):
        (h,) = check_loader(loader, str(path))
        assert (h.dim_order, h.shape) == ("TYXS", (2, 30, 20, 3))
    flt = RNG.normal(size=(4, 9, 11)).astype(np.float32)
    flt[0, 0, 0] = np.nan
    tifffile.imwrite(tmp_path / "f.tif", flt, photometric="minisblack")
    (h,) = check_loader(TifffileLoader(), str(tmp_path / "f.tif"))
    assert (h.dim_order, h.dtype) == ("ZYX", "float32")  # a plain page stack is Z


def test_resolution_in_centimetre_is_converted(tmp_path: Path) -> None:
    path = tmp_path / "cm.tif"
    tifffile.imwrite(
        path, np.zeros((8, 8), np.uint8), resolution=(20000, 25000), resolutionunit="CENTIMETER"
    )
    with TifffileLoader().open(str(path)) as f:
        meta = f.images[0].metadata
    assert meta["pixel_size_X"] == pytest.approx(0.5) and meta["pixel_size_Y"] == pytest.approx(0.4)
    assert meta["pixel_size_unit"] == "µm"


def test_ome_tiff_metadata_written_by_tifffile(tmp_path: Path) -> None:
    path = tmp_path / "x.ome.tif"
    data = RNG.integers(0, 4095, (2, 4, 16, 16), dtype=np.uint16)
    meta = {"axes": "CZYX", "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25, "PhysicalSizeZ": 2.0,
            "PhysicalSizeZUnit": "nm", "Channel": {"Name": ["DAPI", "GFP"]}, "SignificantBits": 12}  # fmt: skip
    tifffile.imwrite(path, data, metadata=meta)
    for loader in (TifffileLoader(), BioioLoader()):
        (h,) = check_loader(loader, str(path))
        assert h.dim_order == "CZYX"
        assert h.metadata["channel_names"] == ["DAPI", "GFP"]
        assert h.metadata["significant_bits"] == 12
        # Mixed units (µm and nm) are not merged into one unit column: none is reported.
        assert "pixel_size_X" not in h.metadata


def _write_json(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def _ngff_image(
    group: Path, data: np.ndarray, axes: list, scale: list, version: str = "0.4"
) -> None:
    import zarr

    zarr.create_array(
        str(group / "0"), data=data, chunks=(1,) * (data.ndim - 2) + data.shape[-2:], zarr_format=2
    )
    zarr.create_array(str(group / "1"), data=data[..., ::2, ::2], zarr_format=2)
    ms = {"version": version, "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": scale}]},
                                           {"path": "1"}]}  # fmt: skip
    if axes:
        ms["axes"] = axes
    _write_json(group / ".zgroup", {"zarr_format": 2})
    _write_json(
        group / ".zattrs",
        {"multiscales": [ms], "omero": {"channels": [{"label": "a"}, {"label": "b"}]}},
    )


def test_ngff_v04_units_and_regions(tmp_path: Path) -> None:
    data = RNG.integers(0, 255, (2, 3, 10, 12), dtype=np.uint8)
    axes = [{"name": "c", "type": "channel"}, {"name": "z", "type": "space", "unit": "nanometer"},
            {"name": "y", "type": "space", "unit": "nanometer"}, {"name": "x", "type": "space", "unit": "nanometer"}]  # fmt: skip
    _ngff_image(tmp_path / "img.ome.zarr", data, axes, [1.0, 500.0, 100.0, 100.0])
    for loader in (ZarrLoader(), BioioLoader()):
        (h,) = check_loader(loader, str(tmp_path / "img.ome.zarr"))
        assert (h.dim_order, h.shape) == ("CZYX", (2, 3, 10, 12))
        assert (h.metadata["pixel_size_X"], h.metadata["pixel_size_Z"]) == (
            pytest.approx(0.1),
            pytest.approx(0.5),
        )
        assert h.metadata["pixel_size_unit"] == "µm" and h.metadata["channel_names"] == ["a", "b"]


def test_ngff_v01_has_fixed_tczyx_axes(tmp_path: Path) -> None:
    data = RNG.integers(0, 255, (1, 2, 1, 8, 9), dtype=np.uint8)
    _ngff_image(tmp_path / "old.zarr", data, [], [1, 1, 1, 1, 1], version="0.1")
    (h,) = check_loader(ZarrLoader(), str(tmp_path / "old.zarr"))
    assert (h.dim_order, h.shape) == ("CYX", (2, 8, 9))


def test_plate_layout_gives_one_image_per_field(tmp_path: Path) -> None:
    plate = tmp_path / "plate.zarr"
    _write_json(plate / ".zgroup", {"zarr_format": 2})
    wells = ["A/1", "A/2", "B/10"]
    _write_json(
        plate / ".zattrs", {"plate": {"version": "0.4", "wells": [{"path": w} for w in wells]}}
    )
    axes = [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
    for k, w in enumerate(wells):
        _write_json(plate / w / ".zgroup", {"zarr_format": 2})
        _write_json(plate / w / ".zattrs", {"well": {"images": [{"path": "0"}]}})
        _ngff_image(plate / w / "0", np.full((6, 7), k, np.uint8), axes, [1.0, 1.0])
    for loader in (ZarrLoader(), BioioLoader()):
        headers = check_loader(loader, str(plate))
        assert [h.child_id for h in headers] == ["A/1/0", "A/2/0", "B/10/0"]
        with loader.open(str(plate)) as f:
            assert [int(f.read(i)[0, 0]) for i in range(3)] == [0, 1, 2]


def test_plain_zarr_arrays_v2_and_v3(tmp_path: Path) -> None:
    import zarr

    v3 = zarr.create_array(str(tmp_path / "named.zarr"), shape=(3, 2, 5, 6), chunks=(1, 1, 5, 6), dtype="i2",
                           dimension_names=["t", "c", "y", "x"])  # fmt: skip
    v3[...] = RNG.integers(-100, 100, v3.shape)
    (h,) = check_loader(ZarrLoader(), str(tmp_path / "named.zarr"))
    assert (h.dim_order, h.dtype) == ("TCYX", "int16")
    rgb = zarr.create_array(
        str(tmp_path / "rgb.zarr"), shape=(10, 12, 3), dtype="u1", zarr_format=2
    )
    rgb[...] = 5
    (h,) = check_loader(ZarrLoader(), str(tmp_path / "rgb.zarr"))
    assert h.dim_order == "YXS"
    group = zarr.open_group(str(tmp_path / "group.zarr"), mode="w")
    group.create_array("b", shape=(4, 4), dtype="f4")
    group.create_array("a", shape=(2, 4, 4), dtype="u1")
    headers = check_loader(ZarrLoader(), str(tmp_path / "group.zarr"))
    assert [(h.child_id, h.dim_order) for h in headers] == [("a", "ZYX"), ("b", "YX")]


@pytest.mark.parametrize("module", ["tifffile_loader", "zarr_loader", "bioio_loader"])
def test_loader_modules_import_nothing_heavy(module: str) -> None:
    code = (
        f"import sys, pixel_patrol_loader_bio.{module} as m; m.{ {'tifffile_loader': 'TifffileLoader', 'zarr_loader': 'ZarrLoader', 'bioio_loader': 'BioioLoader'}[module] }();"
        "heavy = [n for n in ('bioio', 'bioio_base', 'xarray', 'dask', 'zarr', 'tifffile') if n in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


def test_tifffile_loader_never_imports_bioio(tmp_path: Path) -> None:
    path = tmp_path / "a.tif"
    tifffile.imwrite(path, np.zeros((4, 4, 5, 6), np.uint8), tile=(16, 16), photometric="minisblack")
    code = (
        "import sys; from pixel_patrol_loader_bio.tifffile_loader import TifffileLoader;"
        f"f = TifffileLoader().open({str(path)!r}); f.read(0, (slice(0, 1),) * 2 + (slice(0, 2),) * 2); f.close();"
        "print(','.join(n for n in ('bioio', 'bioio_base', 'xarray', 'dask') if n in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""
