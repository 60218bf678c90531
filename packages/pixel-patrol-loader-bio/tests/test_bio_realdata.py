"""Every file of the shared real-data set through every loader that claims it.

Expected values were checked against what other readers report (``MANIFEST.md`` next to the
files). Where these loaders deliberately differ, the case says why in ``why``. Pixel values
are compared with tifffile, zarr, Pillow, nd2 or pylibCZIrw reading the same copy directly.
Each case works on a private copy in ``tmp_path``; the shared files are never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from realdata import require

from pixel_patrol_base.testing import check_loader
from pixel_patrol_loader_bio.bioio_loader import BioioLoader
from pixel_patrol_loader_bio.tifffile_loader import TifffileLoader
from pixel_patrol_loader_bio.zarr_loader import ZarrLoader

LOADERS = {"bioio": BioioLoader, "tifffile": TifffileLoader, "zarr": ZarrLoader}

Img = tuple[str, tuple[int, ...], str, str | None]
"""Expected (dim_order, shape, dtype, child_id) of one image."""


@dataclass(frozen=True)
class Case:
    rel: str
    images: dict[str, list[Img]]
    sizes: tuple[float | None, float | None, float | None] | None = None
    """Expected (X, Y, Z) pixel sizes in µm for every loader; None = no pixel size at all."""
    meta: dict[str, object] = field(default_factory=dict)
    """Further metadata values every loader must report."""
    why: str = ""
    unit: str | None = "µm"
    """Expected pixel_size_unit (NGFF stores without axis units have none)."""

    @property
    def id(self) -> str:
        return self.rel.split("/")[-1]


def tiff_ref(path: Path) -> list[np.ndarray]:
    import tifffile

    with tifffile.TiffFile(path) as tf:
        return [s.asarray() for s in tf.series if not s.keyframe.is_reduced]


def pil_ref(path: Path) -> list[np.ndarray]:
    from PIL import Image

    with Image.open(path) as im:
        return [np.asarray(im)]


def zarr_ref(*arrays: str) -> Callable[[Path], list[np.ndarray]]:
    def ref(path: Path) -> list[np.ndarray]:
        import zarr

        return [zarr.open_array(str(path / a), mode="r")[...] for a in arrays]

    return ref


def nd2_ref(path: Path) -> list[np.ndarray]:
    import nd2

    return [nd2.imread(str(path))]  # T, Z, C, Y, X like bioio-nd2


def czi_ref(planes: int) -> Callable[[Path], list[np.ndarray]]:
    def ref(path: Path) -> list[np.ndarray]:
        from pylibCZIrw import czi as pyczi

        with pyczi.open_czi(str(path)) as f:
            return [
                np.stack([f.read(plane={"T": t, "C": 0, "Z": 0})[..., 0] for t in range(planes)])
            ]

    return ref


U8, U16 = "uint8", "uint16"
CASES = [
    Case("ome-tiff/ome-artificial_single-channel.ome.tif",
         {"tifffile": [("YX", (167, 439), "int8", None)], "bioio": [("YX", (167, 439), "int8", None)]},
         meta={"significant_bits": 8}, why="signed int8 kept signed"),
    Case("ome-tiff/ome-artificial_multi-channel.ome.tif",
         {"tifffile": [("CYX", (3, 167, 439), "int8", None)], "bioio": [("CYX", (3, 167, 439), "int8", None)]}),
    Case("ome-tiff/ome-artificial_z-series.ome.tif",
         {"tifffile": [("ZYX", (5, 167, 439), "int8", None)], "bioio": [("ZYX", (5, 167, 439), "int8", None)]}),
    Case("ome-tiff/ome-artificial_4D-series.ome.tif",
         {"tifffile": [("TZYX", (7, 5, 167, 439), "int8", None)],
          "bioio": [("TZYX", (7, 5, 167, 439), "int8", None)]}),
    Case("ome-tiff/aics_s_1_t_1_c_1_z_1.ome.tiff",
         {"tifffile": [("YX", (325, 475), U16, None)], "bioio": [("YX", (325, 475), U16, None)]},
         sizes=(1.0833333333333333, 1.0833333333333333, None),
         meta={"channel_names": ["Bright"], "objective": "Plan-Apochromat 20x/0.8 M27",
               "numerical_aperture": 0.8, "exposure_time_s": 10.0, "significant_bits": 16,
               "acquisition_date": datetime(2019, 6, 27, 18, 33, 40, 619000, tzinfo=UTC)}),
    Case("ome-tiff/tiledb_rand_uint16.ome.tiff",
         {"tifffile": [("SYX", (3, 512, 128), U16, "Image0"), ("CYX", (3, 64, 16), U8, "thumbnail")],
          "bioio": [("YXS", (512, 128, 3), U16, "Image0"), ("CYX", (3, 64, 16), U8, "thumbnail")]},
         why="two OME images of different shape and dtype; pyramid levels 1-2 of Image0 are not "
             "images. tifffile keeps planar RGB in storage order (SYX), bioio moves S last. "
             "Pixel sizes differ per image, so they are checked in test_multi_series_metadata."),
    Case("ome-tiff/viv_multi-channel_deflate.ome.tif",
         {"tifffile": [("CYX", (3, 167, 439), "int8", None)], "bioio": [("CYX", (3, 167, 439), "int8", None)]}),
    Case("ome-tiff/ome-types_tiny.ome.tiff",
         {"tifffile": [("CYX", (2, 6, 6), U8, None)], "bioio": [("CYX", (2, 6, 6), U8, None)]}),
    Case("imagej-tiff/pixelpatrol_tcyx_8bit.tif",
         {"tifffile": [("TCYX", (10, 3, 31, 33), U8, None)], "bioio": [("TCYX", (10, 3, 31, 33), U8, None)]},
         sizes=(0.010416666666666666, 0.010416666666666666, None)),
    Case("imagej-tiff/pixelpatrol_cyx_16bit.tif",
         {"tifffile": [("CYX", (2, 35, 39), U16, None)], "bioio": [("CYX", (2, 35, 39), U16, None)]},
         sizes=(0.28395215974012694, 0.28395215974012694, None),
         why="bioio reports 'Channel:0:0'-style ids; they are generated, not stored, so not reported"),
    Case("imagej-tiff/pixelpatrol_zyx_16bit.tif",
         {"tifffile": [("ZYX", (5, 25, 26), U16, None)], "bioio": [("ZYX", (5, 25, 26), U16, None)]},
         why="ImageJ unit is empty: the resolution is in pixels, so no pixel size (bioio says 1.0 µm)"),
    Case("imagej-tiff/pims_tiff_stack.tif",
         {"tifffile": [("ZYX", (5, 512, 512), U16, None)], "bioio": [("ZYX", (5, 512, 512), U16, None)]}),
    Case("imagej-tiff/aics_s_1_t_1_c_1_z_1.tiff",
         {"tifffile": [("YX", (325, 475), U16, None)], "bioio": [("YX", (325, 475), U16, None)]},
         sizes=(1.08333441666775, 1.08333441666775, None)),
    Case("tiff/stardist_dsb2018_img2d.tif",
         {"tifffile": [("YX", (512, 512), U16, None)], "bioio": [("YX", (512, 512), U16, None)]},
         why="ResolutionUnit NONE: 1/1 is not a physical size (bioio reports 1.0 µm)"),
    Case("tiff/stardist_dsb2018_mask2d.tif",
         {"tifffile": [("YX", (512, 512), U16, None)], "bioio": [("YX", (512, 512), U16, None)]}),
    Case("tiff/pillow_10ct_32bit_128.tiff",
         {"tifffile": [("YX", (128, 128), "float32", None)], "bioio": [("YX", (128, 128), "float32", None)]}),
    Case("tiff/pillow_hopper_rgb.tif",
         {"tifffile": [("YXS", (128, 128, 3), U8, None)], "bioio": [("YXS", (128, 128, 3), U8, None)]},
         sizes=(264.5833333333333, 264.5833333333333, None),
         why="96 dpi in inches is what the file states; reported as converted, not guessed away"),
    Case("tiff/skimage_multipage_rgb.tif",
         {"tifffile": [("ZSYX", (2, 3, 10, 10), "float64", None)],
          "bioio": [("CSYX", (2, 3, 10, 10), "float64", None)]},
         why="tifffile's unknown Q axis takes the first free letter, Z (an unlabelled page stack); "
             "bioio-tifffile has already named it C, and the normaliser keeps known letters"),
    Case("lsm/omio_032113-18.lsm",
         {"tifffile": [("CYX", (3, 512, 512), U8, None)], "bioio": [("CYX", (3, 512, 512), U8, None)]},
         sizes=(1.037832276204799, 1.037832276204799, None),
         meta={"channel_names": ["Ch1-T1", "Ch2-T2", "T PMT-T2"], "objective": "Plan-Apochromat 20x/0.8 M27",
               "acquisition_date": datetime(2013, 3, 20, 20, 18, 58, tzinfo=UTC)},
         why="the 128x128 RGB thumbnail series is a reduced-resolution preview, not an image "
             "(bioio shows 2 scenes); VoxelSizeZ 1e-19 m of a single plane is not reported"),
    Case("czi/aics_s_1_t_1_c_1_z_1.czi",
         {"bioio": [("YX", (325, 475), U16, None)]},
         sizes=(1.0833333333333333, 1.0833333333333333, None),
         meta={"channel_names": ["Bright"], "objective": "20x/0.8Air"}),
    Case("czi/chiaruttini_xt-scan-lsm980.czi",
         {"bioio": [("TYX", (150, 1, 512), U8, None)]},
         sizes=(0.20716064453125, 0.20716064453125, None),
         why="line scan: Y = 1 is kept, X x T"),
    Case("nd2/pims_cluster.nd2",
         {"bioio": [("TZCYX", (3, 10, 2, 31, 38), U16, None)]},
         sizes=(0.16780898323268245, 0.16780898323268245, 0.5),
         meta={"channel_names": ["5-FAM/pH 9.0", "FM 4-64/2% CHAPS"], "objective": "60x/0.95"}),
    Case("lif/goelzer_PR2729_frameOrderCombinedScanTypes.lif",
         {"bioio": [("TCZYX", (2, 2, 3, 127, 127), U8, None)]},
         sizes=(3.968253968253968, 3.968253968253968, 6.227614999999999),
         meta={"channel_names": ["Green", "Red"]},
         why="4 mosaic tiles are stitched as BioImage does; the negative Z step (-6.23 µm, stack "
             "acquired top-down) is reported as its absolute value"),
    Case("ome-zarr/viv_blobs_image_v04.ome.zarr",
         {"zarr": [("CYX", (3, 12, 12), "float64", None)], "bioio": [("CYX", (3, 12, 12), "float64", None)]},
         sizes=(1.0, 1.0, None), unit=None, meta={"channel_names": ["0", "1", "2"]},
         why="the NGFF scale (1.0, no unit) is reported; bioio-ome-zarr reports none"),
    Case("ome-zarr/viv_blobs_image_v05.ome.zarr",
         {"zarr": [("CYX", (3, 12, 12), "float64", None)], "bioio": [("CYX", (3, 12, 12), "float64", None)]},
         sizes=(1.0, 1.0, None), unit=None),
    Case("ome-zarr/bf2raw_fake-series-2.zarr",
         {"zarr": [("YX", (512, 512), U8, "series"), ("YX", (512, 512), U8, "series 2")],
          "bioio": [("YX", (512, 512), U8, "series"), ("YX", (512, 512), U8, "series 2")]},
         sizes=(1.0, 1.0, None), unit=None, meta={"significant_bits": 8},
         why="the root holds 2 series (BioImage refuses it); names from OME/METADATA.ome.xml; "
             "level 1 of each pyramid is not an image; Z step of a single plane dropped"),
    Case("png-jpeg-bmp/skimage_cell.png", {"bioio": [("YX", (660, 550), U8, None)]}),
    Case("png-jpeg-bmp/skimage_microaneurysms.png", {"bioio": [("YX", (102, 102), U8, None)]}),
    Case("png-jpeg-bmp/skimage_retina.jpg", {"bioio": [("YXS", (1411, 1411, 3), U8, None)]}),
    Case("png-jpeg-bmp/pixelpatrol_yx_8bit.png", {"bioio": [("YX", (33, 33), U8, None)]}),
    Case("png-jpeg-bmp/pixelpatrol_yx_rgb.png", {"bioio": [("YXS", (111, 322, 3), U8, None)]}),
    Case("png-jpeg-bmp/pixelpatrol_yx_8bit.jpeg", {"bioio": [("YXS", (78, 180, 3), U8, None)]},
         why="'.jpeg' is read (BioImage refuses the extension); the content is RGB despite the name"),
    Case("png-jpeg-bmp/pixelpatrol_rgb.bmp", {"bioio": [("YXS", (48, 48, 3), U8, None)]}),
]  # fmt: skip

REFS: dict[str, Callable[[Path], list[np.ndarray]]] = {
    "czi/aics_s_1_t_1_c_1_z_1.czi": czi_ref(1),
    "czi/chiaruttini_xt-scan-lsm980.czi": czi_ref(150),
    "nd2/pims_cluster.nd2": nd2_ref,
    "ome-zarr/viv_blobs_image_v04.ome.zarr": zarr_ref("0"),
    "ome-zarr/viv_blobs_image_v05.ome.zarr": zarr_ref("0"),
    "ome-zarr/bf2raw_fake-series-2.zarr": zarr_ref("0/0", "1/0"),
}


def reference(case: Case, path: Path) -> list[np.ndarray] | None:
    if case.rel in REFS:
        return REFS[case.rel](path)
    if case.rel.startswith(("ome-tiff/", "imagej-tiff/", "tiff/", "lsm/")):
        return tiff_ref(path)
    if case.rel.startswith("png-jpeg-bmp/"):
        return pil_ref(path)
    return None  # LIF: see test_lif_mosaic_is_stitched_from_tiles


BIOIO_READERS = {"ome-tiff": "tifffile", "imagej-tiff": "tifffile", "tiff": "tifffile",
                 "lsm": "tifffile", "png-jpeg-bmp": "pillow", "ome-zarr": "zarr",
                 "czi": "bioio-czi", "nd2": "bioio-nd2", "lif": "bioio-lif"}  # fmt: skip
"""Library the bioio loader decodes each real-data folder with (the ``reader`` column)."""


def expected_reader(case: Case, loader_name: str) -> str:
    if loader_name != "bioio":
        return loader_name
    return BIOIO_READERS[case.rel.split("/")[0]]


PARAMS = [pytest.param(c, name, id=f"{name}-{c.id}") for c in CASES for name in c.images]


def test_every_real_file_has_a_case():
    root = require()
    listed = {c.rel for c in CASES}
    on_disk = {
        f"{d.name}/{f.name}"
        for d in root.iterdir()
        if d.is_dir() and d.name != "LICENSES"
        for f in d.iterdir()
    }
    assert on_disk == listed


@pytest.mark.parametrize(("case", "loader_name"), PARAMS)
def test_real_file(case: Case, loader_name: str, real_copy) -> None:
    path = real_copy(case.rel)
    loader = LOADERS[loader_name]()
    headers = check_loader(loader, str(path))
    got = [(h.dim_order, h.shape, h.dtype, h.child_id) for h in headers]
    assert got == case.images[loader_name], case.why
    for h in headers:
        assert h.metadata["reader"] == expected_reader(case, loader_name)
        if len(headers) == 1:
            _check_sizes(h.metadata, case.sizes, case.unit, case.why)
        for key, value in case.meta.items():
            assert h.metadata.get(key) == value, f"{key}: {case.why}"
    _check_pixels(case, loader, path, headers)


def _check_sizes(meta: dict, sizes: tuple | None, unit: str | None, why: str) -> None:
    if sizes is None:
        assert not any(k.startswith("pixel_size") for k in meta), why
        return
    for axis, want in zip("XYZ", sizes, strict=True):
        got = meta.get(f"pixel_size_{axis}")
        assert (got is None) if want is None else got == pytest.approx(want), f"{axis}: {why}"
    assert meta.get("pixel_size_unit") == unit, why


def _check_pixels(case: Case, loader, path: Path, headers) -> None:
    refs = reference(case, path)
    if refs is None:
        return
    assert len(refs) == len(headers)
    with loader.open(str(path)) as f:
        for i, (ref, h) in enumerate(zip(refs, headers, strict=True)):
            got = f.read(i)
            want = np.asarray(ref)
            if h.dim_order.endswith("S") and not _storage_has_s_last(want, h):
                want = np.moveaxis(want.reshape(-1, *want.shape[-2:]), 0, -1)
            assert np.array_equal(got, want.reshape(h.shape)), f"{case.rel}[{i}] pixel values"


def _storage_has_s_last(want: np.ndarray, h) -> bool:
    return want.shape[-1] == h.shape[-1]


def test_multi_series_metadata(real_copy) -> None:
    """Per-image metadata of a multi-series OME-TIFF: only Image0 has pixel sizes."""
    path = str(real_copy("ome-tiff/tiledb_rand_uint16.ome.tiff"))
    for loader in (TifffileLoader(), BioioLoader()):
        with loader.open(path) as f:
            first, thumb = f.images
        assert first.metadata["pixel_size_X"] == pytest.approx(0.29)
        assert (
            first.metadata["significant_bits"] == 10
        )  # OME SignificantBits beats BitsPerSample 12
        assert first.metadata["channel_names"] == ["Channel 1"]
        assert "pixel_size_X" not in thumb.metadata
        assert thumb.metadata["significant_bits"] == 8


def test_lif_mosaic_is_stitched_from_tiles(real_copy) -> None:
    """The stitched 127x127 LIF mosaic is made of the file's 64x64 tiles (1-pixel overlap).

    Which tile lands where follows the tile positions in the LIF metadata (bioio-lif's
    stitching); the top-left corner must be a tile's top-left corner, pixel for pixel.
    """
    import liffile

    path = real_copy("lif/goelzer_PR2729_frameOrderCombinedScanTypes.lif")
    with liffile.LifFile(str(path)) as lif:
        tiles = lif.images[0].asarray()  # T, M, Z, C, Y, X
    tczyx = [np.moveaxis(tiles[:, m], 2, 1) for m in range(tiles.shape[1])]  # T, C, Z, Y, X
    with BioioLoader().open(str(path)) as f:
        got = f.read(0)
    assert any(np.array_equal(got[..., :60, :60], t[..., :60, :60]) for t in tczyx)
    assert np.array_equal(f_read_region(path), got[1, :, 2, 10:70, 60:])


def f_read_region(path: Path) -> np.ndarray:
    with BioioLoader().open(str(path)) as f:
        return f.read(0, (slice(1, 2), slice(None), slice(2, 3), slice(10, 70), slice(60, None)))[
            0, :, 0
        ]


def test_non_zarr_named_store(real_copy, tmp_path: Path) -> None:
    """A store in a folder not named .zarr is still a dataset for both folder loaders."""
    src = real_copy("ome-zarr/viv_blobs_image_v05.ome.zarr")
    plain = tmp_path / "blobs_copy"
    src.rename(plain)
    assert ZarrLoader.is_dataset_dir(plain) and BioioLoader.is_dataset_dir(plain)
    assert not ZarrLoader.is_dataset_dir(tmp_path)
    for loader in (ZarrLoader(), BioioLoader()):
        headers = check_loader(loader, str(plain))
        assert [(h.dim_order, h.shape) for h in headers] == [("CYX", (3, 12, 12))]
