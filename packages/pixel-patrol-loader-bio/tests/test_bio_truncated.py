"""A file that cannot give every plane it declares is an error, never a smaller image.

Each file is cut short at many points (structural boundaries and fractions of its size). A
cut file must either fail with :class:`ImageReadError` (one line, reader named) or read back
exactly as the whole file did: the same images, axes and pixels. Truncation that only removes
trailing bytes nothing refers to may do the latter; anything else is an error.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import numpy as np
import pytest
import tifffile
from realdata import require

from pixel_patrol_base.errors import ImageReadError
from pixel_patrol_loader_bio.bioio_loader import BioioLoader
from pixel_patrol_loader_bio.tifffile_loader import TifffileLoader
from pixel_patrol_loader_bio.zarr_loader import ZarrLoader

STACK = (np.arange(4 * 32 * 48, dtype=np.uint32) * 7 % 65521).astype(np.uint16).reshape(4, 32, 48)
TIFF_LOADERS = {"tifffile": TifffileLoader, "bioio": BioioLoader}

Outcome = list[tuple[str, np.ndarray]] | ImageReadError


def outcome(loader, path: Path) -> Outcome:
    """Every image of ``path`` as (dim_order, pixels), or the loader's ImageReadError."""
    try:
        with loader.open(str(path)) as f:
            return [(h.dim_order, np.asarray(f.read(i))) for i, h in enumerate(f.images)]
    except ImageReadError as exc:
        assert "\n" not in str(exc) and exc.reader
        return exc


def same(a: Outcome, b: Outcome) -> bool:
    if isinstance(a, ImageReadError) or isinstance(b, ImageReadError):
        return False
    return len(a) == len(b) and all(
        da == db and x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y)
        for (da, x), (db, y) in zip(a, b, strict=True)
    )


def cut(src: Path, dst: Path, size: int) -> Path:
    dst.write_bytes(src.read_bytes()[:size])
    return dst


def structural_cuts(path: Path) -> list[int]:
    """Byte positions worth cutting at: page and data boundaries, and fractions of the file."""
    size = path.stat().st_size
    points = {int(size * f / 16) for f in range(1, 16)} | {size - 1, size - 10}
    with tifffile.TiffFile(path) as tf:
        for page in tf.pages:
            points.add(page.offset)
            for o, c in zip(page.dataoffsets, page.databytecounts, strict=True):
                points |= {o, o + c // 2, o + c}
    return sorted(p for p in points if 0 < p < size)


def write_stack(kind: str, path: Path) -> Path:
    """The 4-plane test stack in one of the layouts tifffile writes."""
    kw: dict = {
        "imagej": {"imagej": True, "metadata": {"axes": "ZYX"}},
        "ome": {"ome": True, "metadata": {"axes": "ZYX"}},
        "ome-zlib-tiled": {"ome": True, "metadata": {"axes": "ZYX"}, "compression": "zlib", "tile": (16, 16)},
        "plain": {"photometric": "minisblack", "metadata": None},
        "plain-zlib": {"photometric": "minisblack", "metadata": None, "compression": "zlib", "rowsperstrip": 8},
        "shaped": {"photometric": "minisblack"},
        "shaped-zlib": {"photometric": "minisblack", "compression": "zlib"},
    }[kind]  # fmt: skip
    tifffile.imwrite(path, STACK, **kw)
    return path


KINDS = ["imagej", "ome", "ome-zlib-tiled", "plain", "plain-zlib", "shaped", "shaped-zlib"]


@pytest.mark.parametrize("loader", TIFF_LOADERS, ids=str)
@pytest.mark.parametrize("kind", KINDS)
def test_stack_cut_after_second_plane_is_an_error(tmp_path: Path, kind: str, loader: str) -> None:
    """The reported failure: 4 Z planes, file cut right after the second plane's data."""
    full = write_stack(kind, tmp_path / "full.tif")
    whole = outcome(TIFF_LOADERS[loader](), full)
    assert not isinstance(whole, ImageReadError)
    assert np.array_equal(whole[0][1].reshape(STACK.shape), STACK)
    with tifffile.TiffFile(full) as tf:
        pages = list(tf.pages)
        end = (
            pages[1].dataoffsets[-1] + pages[1].databytecounts[-1]
            if len(pages) == 4
            else pages[0].dataoffsets[0] + 2 * STACK[0].nbytes
        )
    got = outcome(TIFF_LOADERS[loader](), cut(full, tmp_path / "cut.tif", end))
    assert isinstance(got, ImageReadError), f"{kind}: read {[a.shape for _, a in got]}"
    assert got.cause.startswith("incomplete file: ")
    if kind in ("imagej", "shaped", "shaped-zlib"):
        assert "2 of 4 planes readable" in got.cause
    if kind.startswith("plain"):
        assert "readable; the list of pages goes on past page" in got.cause


@pytest.mark.parametrize("loader", TIFF_LOADERS, ids=str)
@pytest.mark.parametrize("kind", KINDS)
def test_stack_cut_anywhere_is_an_error_or_identical(tmp_path: Path, kind: str, loader: str) -> None:
    full = write_stack(kind, tmp_path / "full.tif")
    whole = outcome(TIFF_LOADERS[loader](), full)
    errors = 0
    for size in structural_cuts(full):
        got = outcome(TIFF_LOADERS[loader](), cut(full, tmp_path / f"cut{size}.tif", size))
        assert isinstance(got, ImageReadError) or same(got, whole), f"{kind} cut at {size}"
        errors += isinstance(got, ImageReadError)
    assert errors > 0


def test_imagej_message_counts_planes(tmp_path: Path) -> None:
    full = write_stack("imagej", tmp_path / "full.tif")
    with tifffile.TiffFile(full) as tf:
        start = tf.pages.first.dataoffsets[0]
    got = outcome(TifffileLoader(), cut(full, tmp_path / "c.tif", start + 3 * STACK[0].nbytes - 1))
    assert isinstance(got, ImageReadError)
    assert got.cause == "incomplete file: 2 of 4 planes readable (its ImageJ metadata declares 4)"


def test_ome_metadata_cut_off_is_an_error_not_relabelled_axes(tmp_path: Path) -> None:
    """Losing the OME-XML would turn a CYX image into ZYX with the same pixels."""
    path = tmp_path / "c.ome.tif"
    tifffile.imwrite(path, STACK[:2], ome=True, metadata={"axes": "CYX"})
    with tifffile.TiffFile(path) as tf:
        description = next(t for t in tf.pages.first.tags if t.name == "ImageDescription")
        value_at = description.valueoffset
    got = outcome(BioioLoader(), cut(path, tmp_path / "cut.ome.tif", value_at + 5))
    assert isinstance(got, ImageReadError)
    assert "ImageDescription" in got.cause and "past the end of the file" in got.cause


def write_multifile_ome(folder: Path, compression: str | None = None) -> Path:
    """A 4-plane OME image whose planes 2 and 3 live in a second file."""
    ids = [f"urn:uuid:{uuid.uuid4()}" for _ in range(2)]
    ome = "http://www.openmicroscopy.org/Schemas/OME/2016-06"
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><OME xmlns="{ome}" UUID="{ids[0]}">'
        '<Image ID="Image:0" Name="stack"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" '
        'Type="uint16" SizeX="48" SizeY="32" SizeZ="4" SizeC="1" SizeT="1">'
        '<Channel ID="Channel:0:0" SamplesPerPixel="1"/>'
        f'<TiffData FirstZ="0" IFD="0" PlaneCount="2"><UUID FileName="master.ome.tif">{ids[0]}</UUID></TiffData>'
        f'<TiffData FirstZ="2" IFD="0" PlaneCount="2"><UUID FileName="part.ome.tif">{ids[1]}</UUID></TiffData>'
        "</Pixels></Image></OME>"
    )
    binary = (
        f'<?xml version="1.0" encoding="UTF-8"?><OME xmlns="{ome}" UUID="{ids[1]}">'
        f'<BinaryOnly MetadataFile="master.ome.tif" UUID="{ids[0]}"/></OME>'
    )
    kw = {"photometric": "minisblack", "metadata": None, "compression": compression}
    tifffile.imwrite(folder / "master.ome.tif", STACK[:2], description=xml, **kw)
    tifffile.imwrite(folder / "part.ome.tif", STACK[2:], description=binary, **kw)
    return folder / "master.ome.tif"


@pytest.mark.parametrize("loader", TIFF_LOADERS, ids=str)
def test_multifile_ome_with_a_part_missing_or_cut(tmp_path: Path, loader: str) -> None:
    master = write_multifile_ome(tmp_path)
    whole = outcome(TIFF_LOADERS[loader](), master)
    assert not isinstance(whole, ImageReadError)
    assert whole[0][0] == "ZYX" and np.array_equal(whole[0][1], STACK)
    part = tmp_path / "part.ome.tif"
    data = part.read_bytes()
    with tifffile.TiffFile(part) as tf:
        second = tf.pages[1].dataoffsets[0]
    part.write_bytes(data[:second])
    got = outcome(TIFF_LOADERS[loader](), master)
    assert isinstance(got, ImageReadError) and "3 of 4 planes readable" in got.cause
    part.unlink()
    got = outcome(TIFF_LOADERS[loader](), master)
    assert isinstance(got, ImageReadError) and "2 of 4 planes readable" in got.cause


@pytest.mark.parametrize("loader", TIFF_LOADERS, ids=str)
@pytest.mark.parametrize("compression", [None, "zlib"])
def test_multifile_ome_regions_read_across_files(tmp_path: Path, loader: str, compression) -> None:
    """Region reads fetch the planes of the second file too (tifffile closes it after parsing)."""
    master = write_multifile_ome(tmp_path, compression)
    with TIFF_LOADERS[loader]().open(str(master)) as f:
        box = (slice(1, 4), slice(3, 20), slice(5, 48))
        assert np.array_equal(f.read(0, box), STACK[box])
        assert np.array_equal(f.read(0), STACK)


@pytest.mark.parametrize("loader", TIFF_LOADERS, ids=str)
def test_multiseries_ome_cut_in_second_series(tmp_path: Path, loader: str) -> None:
    path = tmp_path / "two.ome.tif"
    with tifffile.TiffWriter(path, ome=True) as tw:
        tw.write(STACK, metadata={"axes": "ZYX"})
        tw.write(STACK[:2] // 2, metadata={"axes": "ZYX"}, compression="zlib")
    whole = outcome(TIFF_LOADERS[loader](), path)
    assert not isinstance(whole, ImageReadError) and len(whole) == 2
    with tifffile.TiffFile(path) as tf:
        last = tf.series[1].keyframe
        inside = last.dataoffsets[0] + last.databytecounts[0] // 2
    for size in (inside, path.stat().st_size - 20):
        got = outcome(TIFF_LOADERS[loader](), cut(path, tmp_path / f"cut{size}.ome.tif", size))
        assert isinstance(got, ImageReadError) or same(got, whole)


REAL_TIFFS = [
    "imagej-tiff/aics_s_1_t_1_c_1_z_1.tiff",
    "imagej-tiff/pims_tiff_stack.tif",
    "imagej-tiff/pixelpatrol_cyx_16bit.tif",
    "imagej-tiff/pixelpatrol_tcyx_8bit.tif",
    "imagej-tiff/pixelpatrol_zyx_16bit.tif",
    "lsm/omio_032113-18.lsm",
    "ome-tiff/aics_s_1_t_1_c_1_z_1.ome.tiff",
    "ome-tiff/ome-artificial_4D-series.ome.tif",
    "ome-tiff/ome-artificial_multi-channel.ome.tif",
    "ome-tiff/ome-artificial_z-series.ome.tif",
    "ome-tiff/ome-types_tiny.ome.tiff",
    "ome-tiff/tiledb_rand_uint16.ome.tiff",
    "ome-tiff/viv_multi-channel_deflate.ome.tif",
    "tiff/pillow_hopper_rgb.tif",
    "tiff/skimage_multipage_rgb.tif",
    "tiff/stardist_dsb2018_img2d.tif",
]
FRACTIONS = (0.1, 0.3, 0.5, 0.7, 0.9, 0.97, 0.995)


def real_cuts(path: Path) -> list[int]:
    size = path.stat().st_size
    return sorted({int(size * f) for f in FRACTIONS} | {size - 1, size - 16, size - 512})


@pytest.mark.parametrize("loader", TIFF_LOADERS, ids=str)
@pytest.mark.parametrize("rel", REAL_TIFFS, ids=lambda r: r.split("/")[-1])
def test_real_tiff_cut_is_an_error_or_identical(real_copy, tmp_path: Path, rel: str, loader: str) -> None:
    src = real_copy(rel)
    whole = outcome(TIFF_LOADERS[loader](), src)
    assert not isinstance(whole, ImageReadError)
    for size in real_cuts(src):
        got = outcome(TIFF_LOADERS[loader](), cut(src, tmp_path / f"{size}_{src.name}", size))
        assert isinstance(got, ImageReadError) or same(got, whole), f"cut at {size}"


@pytest.mark.parametrize(
    "rel",
    ["czi/aics_s_1_t_1_c_1_z_1.czi", "czi/chiaruttini_xt-scan-lsm980.czi", "nd2/pims_cluster.nd2",
     "lif/goelzer_PR2729_frameOrderCombinedScanTypes.lif"],
    ids=lambda r: r.split("/")[-1],
)  # fmt: skip
def test_real_plugin_format_cut_is_an_error_or_identical(real_copy, tmp_path: Path, rel: str) -> None:
    """CZI, ND2 and LIF through their bioio plugins: cut files fail, none reads smaller."""
    src = real_copy(rel)
    whole = outcome(BioioLoader(), src)
    assert not isinstance(whole, ImageReadError)
    results = []
    total = src.stat().st_size
    for size in sorted({int(total * f) for f in (0.3, 0.7, 0.97)} | {total - 16, total - 4096}):
        got = outcome(BioioLoader(), cut(src, tmp_path / f"{size}_{src.name}", size))
        assert isinstance(got, ImageReadError) or same(got, whole), f"cut at {size}"
        results.append(isinstance(got, ImageReadError))
    assert any(results)


def copy_store(rel: str, dst: Path) -> Path:
    shutil.copytree(require(rel), dst)
    return dst


@pytest.mark.parametrize("loader", [BioioLoader, ZarrLoader], ids=["bioio", "zarr"])
@pytest.mark.parametrize("source", ["OME/.zattrs", "OME/METADATA.ome.xml"])
def test_bf2raw_series_missing_is_an_error(tmp_path: Path, loader, source: str) -> None:
    """The series list of OME/.zattrs declares them, else the images of the OME-XML."""
    store = copy_store("ome-zarr/bf2raw_fake-series-2.zarr", tmp_path / "s.zarr")
    if source != "OME/.zattrs":
        (store / "OME" / ".zattrs").write_text("{}")
    assert len(outcome(loader(), store)) == 2
    shutil.rmtree(store / "1")
    got = outcome(loader(), store)
    assert isinstance(got, ImageReadError)
    assert got.cause == f"incomplete store: 1 of 2 series readable ({source} declares 2; missing: 1)"


@pytest.mark.parametrize("loader", [BioioLoader, ZarrLoader], ids=["bioio", "zarr"])
@pytest.mark.parametrize("gone", ["0", "0/.zarray"])
def test_ome_zarr_level0_missing_is_an_error(tmp_path: Path, loader, gone: str) -> None:
    store = copy_store("ome-zarr/viv_blobs_image_v04.ome.zarr", tmp_path / "s.ome.zarr")
    target = store / gone
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    assert isinstance(outcome(loader(), store), ImageReadError)


@pytest.mark.parametrize("loader", [BioioLoader, ZarrLoader], ids=["bioio", "zarr"])
@pytest.mark.parametrize("rel", ["ome-zarr/viv_blobs_image_v04.ome.zarr", "ome-zarr/viv_blobs_image_v05.ome.zarr"])
def test_ome_zarr_cut_chunk_is_an_error(tmp_path: Path, loader, rel: str) -> None:
    store = copy_store(rel, tmp_path / "s.ome.zarr")
    chunk = next(p for p in sorted((store / "0").rglob("*")) if p.is_file() and p.name[0].isdigit())
    chunk.write_bytes(chunk.read_bytes()[: chunk.stat().st_size // 2])
    got = outcome(loader(), store)
    assert isinstance(got, ImageReadError) and got.reader == "zarr"


def write_plate(root: Path) -> Path:
    """A 1×2 plate, two fields per well, written as OME-Zarr v0.4 by hand."""
    import json

    import zarr

    zarr.open_group(str(root), mode="w", zarr_format=2)
    wells = [{"path": "A/1", "rowIndex": 0, "columnIndex": 0}, {"path": "A/2", "rowIndex": 0, "columnIndex": 1}]
    plate = {"plate": {"version": "0.4", "rows": [{"name": "A"}], "columns": [{"name": "1"}, {"name": "2"}],
                       "wells": wells, "field_count": 2}}  # fmt: skip
    (root / ".zattrs").write_text(json.dumps(plate))
    for w, well in enumerate(wells):
        wpath = root / well["path"]
        zarr.open_group(str(wpath), mode="w", zarr_format=2)
        (wpath / ".zattrs").write_text(json.dumps({"well": {"version": "0.4", "images": [{"path": "0"}, {"path": "1"}]}}))
        for f in range(2):
            field = zarr.open_group(str(wpath / str(f)), mode="w", zarr_format=2)
            field.create_array("0", shape=(8, 8), dtype="uint8", chunks=(8, 8))[...] = w * 10 + f
            axes = [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
            ms = {"multiscales": [{"version": "0.4", "axes": axes, "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1.0, 1.0]}]}]}]}
            (wpath / str(f) / ".zattrs").write_text(json.dumps(ms))
    return root


@pytest.mark.parametrize("loader", [BioioLoader, ZarrLoader], ids=["bioio", "zarr"])
def test_plate_with_a_well_or_field_missing_is_an_error(tmp_path: Path, loader) -> None:
    plate = write_plate(tmp_path / "p.ome.zarr")
    whole = outcome(loader(), plate)
    assert not isinstance(whole, ImageReadError) and len(whole) == 4
    assert [int(a[0, 0]) for _, a in whole] == [0, 1, 10, 11]
    shutil.rmtree(plate / "A" / "2" / "1")
    got = outcome(loader(), plate)
    assert isinstance(got, ImageReadError)
    assert got.cause == "incomplete store: 3 of 4 fields readable (the plate metadata declares 4; missing: A/2/1)"
    shutil.rmtree(plate / "A" / "2")
    got = outcome(loader(), plate)
    assert isinstance(got, ImageReadError)
    assert got.cause == "incomplete store: 1 of 2 wells readable (the plate metadata declares 2; missing: A/2)"
