"""Region reads of TIFF files decode only what they need and give tifffile's pixels exactly.

Every layout the bounded reader handles (uncompressed contiguous data read straight from the
file, strips and tiles decoded one at a time, image codecs, planar and interleaved samples,
volumetric tiles, big-endian files) is compared with tifffile's own decoding of the whole file,
for the whole image and for random boxes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from pixel_patrol_loader_bio import _tiffread
from pixel_patrol_loader_bio.bioio_loader import BioioLoader
from pixel_patrol_loader_bio.tifffile_loader import TifffileLoader

RNG = np.random.default_rng(7)


def smooth(shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Pixels that compress and survive lossy codecs reasonably (exact for lossless ones)."""
    grids = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    values = sum((g * (i + 3)) for i, g in enumerate(grids)) % 200
    return np.asarray(values + RNG.integers(0, 3, shape), dtype=dtype)


LAYOUTS: dict[str, tuple[tuple[int, ...], str, dict]] = {
    "uncompressed": ((3, 37, 41), "uint16", {"photometric": "minisblack"}),
    "uncompressed-bigendian": ((3, 37, 41), "uint16", {"photometric": "minisblack", "byteorder": ">"}),
    "zlib-strips": ((3, 37, 41), "uint16", {"photometric": "minisblack", "compression": "zlib", "rowsperstrip": 5}),
    "zlib-predictor-bigendian": ((2, 37, 41), "int16", {"photometric": "minisblack", "compression": "zlib", "predictor": True, "byteorder": ">"}),
    "zstd-tiles-edges": ((2, 37, 41), "uint16", {"photometric": "minisblack", "compression": "zstd", "tile": (16, 16)}),
    "float-predictor-tiles": ((37, 41), "float32", {"photometric": "minisblack", "compression": "zlib", "predictor": True, "tile": (16, 32)}),
    "rgb-contig-lzw": ((37, 41, 3), "uint8", {"photometric": "rgb", "compression": "lzw", "rowsperstrip": 7}),
    "rgb-planar-tiles": ((3, 37, 41), "uint8", {"photometric": "rgb", "planarconfig": "separate", "compression": "zlib", "tile": (16, 16)}),
    "jpeg-rgb-tiles": ((48, 64, 3), "uint8", {"photometric": "rgb", "compression": "jpeg", "tile": (16, 16)}),
    "jpeg-grey-strips": ((2, 40, 48), "uint8", {"photometric": "minisblack", "compression": "jpeg", "rowsperstrip": 16}),
    "png-tiles": ((37, 41), "uint16", {"photometric": "minisblack", "compression": "png", "tile": (16, 16)}),
    "webp-tiles": ((48, 64, 3), "uint8", {"photometric": "rgb", "compression": "webp", "tile": (16, 16)}),
    "jpeg2000-tiles": ((37, 41), "uint16", {"photometric": "minisblack", "compression": "jpeg2000", "tile": (16, 16)}),
    "volumetric-tiles": ((9, 37, 41), "uint16", {"photometric": "minisblack", "compression": "zlib", "tile": (4, 16, 16), "volumetric": True}),
    "packbits-bilevel": ((37, 41), "bool", {"photometric": "minisblack", "compression": "packbits"}),
}  # fmt: skip


def write(name: str, path: Path) -> Path:
    shape, dtype, kw = LAYOUTS[name]
    data = smooth(shape, dtype) if dtype != "bool" else RNG.integers(0, 2, shape).astype(bool)
    tifffile.imwrite(path, data, metadata=None, **kw)
    return path


def random_boxes(shape: tuple[int, ...], n: int) -> list[tuple[slice, ...]]:
    boxes = []
    for _ in range(n):
        box = []
        for size in shape:
            a = int(RNG.integers(0, size))
            b = int(RNG.integers(a + 1, size + 1))
            box.append(slice(a, b))
        boxes.append(tuple(box))
    return boxes


@pytest.mark.parametrize("name", LAYOUTS)
def test_tifffile_loader_matches_tifffile(tmp_path: Path, name: str) -> None:
    path = write(name, tmp_path / f"{name}.tif")
    expected = tifffile.imread(path)
    with TifffileLoader().open(str(path)) as f:
        whole = f.read(0)
        assert np.array_equal(whole, expected)
        for box in random_boxes(whole.shape, 25):
            assert np.array_equal(f.read(0, box), expected[box]), box


@pytest.mark.parametrize("name", LAYOUTS)
def test_bioio_loader_regions_match_its_whole_read(tmp_path: Path, name: str) -> None:
    path = write(name, tmp_path / f"{name}.tif")
    with BioioLoader().open(str(path)) as f:
        whole = f.read(0)
        for box in random_boxes(whole.shape, 15):
            assert np.array_equal(f.read(0, box), whole[box]), box


def test_uncompressed_region_reads_only_its_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A window of one uncompressed strip reads only the window's rows, not the strip."""
    data = smooth((64, 256), "uint16")
    path = tmp_path / "one_strip.tif"
    tifffile.imwrite(path, data, photometric="minisblack", rowsperstrip=64, metadata=None)
    reads: list[int] = []
    real = _tiffread.read_contiguous

    def counting(*args):
        out = real(*args)
        reads.append(out.nbytes)
        return out

    monkeypatch.setattr(_tiffread, "read_contiguous", counting)
    with TifffileLoader().open(str(path)) as f:
        assert np.array_equal(f.read(0, (slice(10, 14), slice(0, 256))), data[10:14])
        assert np.array_equal(f.read(0, (slice(3, 5), slice(100, 120))), data[3:5, 100:120])
    assert reads == [4 * 256 * 2, 2 * 20 * 2]


def test_region_of_compressed_page_decodes_only_its_strips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = smooth((64, 32), "uint16")
    path = tmp_path / "strips.tif"
    tifffile.imwrite(path, data, photometric="minisblack", compression="zlib", rowsperstrip=8, metadata=None)
    decoded: list[int] = []
    real = _tiffread._segment_bytes
    monkeypatch.setattr(_tiffread, "_segment_bytes", lambda page, i: decoded.append(i) or real(page, i))
    with TifffileLoader().open(str(path)) as f:
        assert np.array_equal(f.read(0, (slice(20, 30), slice(0, 32))), data[20:30])
    assert decoded == [2, 3]
