"""Datasets with planted problems, for the findings tests (and any test that needs findings).

Everything is seeded and written with tifffile (OME-TIFF, as microscopes and Fiji export them;
one JPEG where a lossy file is the point) into a folder the caller gives, one sub-folder per
condition, then scanned with the real pipeline. Pixel content looks like fluorescence
microscopy: smooth cells and nuclei of random size and brightness on a dark background, shot
noise (Poisson), a camera offset of 100 and read noise, 12-bit range in uint16.

Functions:

* :func:`natural_image` — one channel of a natural-looking 2-D field, ``(Y, X)`` uint16.
* :func:`natural_stack` — a Z stack whose sharpness peaks at a chosen focal slice.
* :func:`natural_cyx`, :func:`natural_zcyx` — 3-channel fields and 3-channel stacks.
* :func:`write_ome` — an OME-TIFF with pixel size and channel names.
* :func:`write_clean` — the clean dataset: conditions ``control`` and ``treated``, each with
  12 three-channel Z stacks; ``api.check`` on its report finds no warning and no error.
* :func:`write_planted` — one condition per planted case holding clean images plus the
  problem; returns :class:`Planted` values (finding id, severity and the exact files that must
  be reported). Every finding id but ``expectation`` has at least one case.

The session fixtures ``planted_report`` and ``clean_report`` in ``tests/conftest.py`` scan these
datasets once per test run.
* :func:`scan` — ``api.process_files`` on a folder with one condition per sub-folder (bioio
  loader, one worker); returns the report path.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image
from scipy import ndimage

from pixel_patrol_base import api

OFFSET = 100
SIDE = 96
CHANNELS = ["DAPI", "GFP", "RFP"]
CLEAN_PER_CONDITION = 7
LARGE_CONDITION = 10
"""Images per condition where images are compared with their condition (outlier, blurry)."""


@dataclass(frozen=True)
class Planted:
    """What a planted case must produce: a finding with this id and severity naming the files."""

    id: str
    severity: str
    files: tuple[str, ...]
    """Paths relative to the dataset folder."""


def natural_image(rng: np.random.Generator, shape: tuple[int, int] = (SIDE, SIDE), signal: float = 1500.0, blur: float = 0.0) -> np.ndarray:
    """Cells (smooth blobs of random size and brightness) + texture, Poisson and read noise."""
    photons = _scene(rng, shape) * signal
    if blur:
        photons = ndimage.gaussian_filter(photons, blur)
    return _camera(rng, photons)


def _scene(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Nuclei with sharp rims and chromatin texture, a few bright puncta; background 0.05."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    img = np.zeros(shape)
    for _ in range(int(rng.integers(16, 21))):
        cy, cx = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
        r = rng.uniform(5.0, 9.0)
        disk = np.clip(r - np.hypot(yy - cy, xx - cx) + 0.5, 0.0, 1.0)
        img = np.maximum(img, rng.uniform(0.5, 1.0) * disk)
    texture = ndimage.gaussian_filter(rng.standard_normal(shape), 1.0)
    img *= np.clip(1.0 + 0.6 * texture / texture.std(), 0.3, 1.7)
    spots = np.zeros(shape)
    spots[rng.integers(0, shape[0], 12), rng.integers(0, shape[1], 12)] = 1.0
    img += 6.0 * ndimage.gaussian_filter(spots, 0.8)
    return np.clip(img, 0.0, 1.6) + 0.05


def _camera(rng: np.random.Generator, photons: np.ndarray) -> np.ndarray:
    counts = rng.poisson(np.maximum(photons, 0)) + OFFSET + rng.normal(0, 2.0, photons.shape)
    return np.clip(np.round(counts), 0, 4095).astype(np.uint16)


def natural_stack(rng: np.random.Generator, n_z: int = 9, focus: int | None = None, signal: float = 1500.0) -> np.ndarray:
    """``(Z, Y, X)``: one scene, blurred more the further a slice is from the focal slice."""
    focus = n_z // 2 if focus is None else focus
    scene = _scene(rng, (SIDE, SIDE)) * signal
    planes = [ndimage.gaussian_filter(scene, 0.2 + 0.6 * abs(z - focus)) for z in range(n_z)]
    return _camera(rng, np.stack(planes))


def natural_zcyx(rng: np.random.Generator, n_z: int = 7, signal: float = 1500.0) -> np.ndarray:
    """``(Z, C, Y, X)``: three channels, each a stack in focus at the middle slice."""
    return np.stack([natural_stack(rng, n_z, signal=signal * (0.7 + 0.3 * c)) for c in range(3)], axis=1)


def natural_cyx(rng: np.random.Generator, signal: float = 1500.0, blur: float = 0.0) -> np.ndarray:
    """``(C, Y, X)`` with the three channels of :data:`CHANNELS`."""
    return np.stack([natural_image(rng, signal=signal * (0.7 + 0.3 * c), blur=blur) for c in range(3)])


def write_ome(path: Path, data: np.ndarray, axes: str, pixel_size: float | None = 0.1, channels: list[str] | None = None, compression: str | None = None) -> None:
    """An OME-TIFF with its calibration and channel names (both optional)."""
    meta: dict[str, object] = {"axes": axes}
    if pixel_size is not None:
        meta.update({"PhysicalSizeX": pixel_size, "PhysicalSizeY": pixel_size, "PhysicalSizeXUnit": "µm", "PhysicalSizeYUnit": "µm"})
        if "Z" in axes:
            meta.update({"PhysicalSizeZ": 0.5, "PhysicalSizeZUnit": "µm"})
    if channels is not None and "C" in axes:
        meta["Channel"] = {"Name": channels}
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, data, ome=True, metadata=meta, compression=compression)


def _clean_cyx(folder: Path, rng: np.random.Generator, n: int = CLEAN_PER_CONDITION) -> None:
    for i in range(n):
        write_ome(folder / f"cells_{i:02d}.ome.tif", natural_cyx(rng), "CYX", channels=CHANNELS)


def _clean_zyx(folder: Path, rng: np.random.Generator, n: int = CLEAN_PER_CONDITION) -> None:
    for i in range(n):
        write_ome(folder / f"stack_{i:02d}.ome.tif", natural_stack(rng), "ZYX")


def write_clean(base: Path, seed: int = 1, n: int = 12) -> None:
    """Two conditions of the same kind of data, ``n`` 3-channel Z stacks each; no problem."""
    rng = np.random.default_rng(seed)
    for cond in ("control", "treated"):
        for i in range(n):
            write_ome(base / cond / f"stack_{i:02d}.ome.tif", natural_zcyx(rng), "ZCYX", channels=CHANNELS)


# ---- planted cases: each writes clean images plus its problem into its own condition ----


def _clipped(d: Path, rng: np.random.Generator) -> list[Planted]:
    _clean_cyx(d, rng)
    img = natural_cyx(rng)
    img[1] = np.minimum(natural_image(rng, signal=9000.0), 4095)  # 12-bit camera saturating
    write_ome(d / "saturated.ome.tif", img, "CYX", channels=CHANNELS)
    dark = natural_cyx(rng).astype(np.int32) - 160  # background subtracted below zero
    write_ome(d / "black.ome.tif", np.clip(dark, 0, None).astype(np.uint16), "CYX", channels=CHANNELS)
    return [Planted("clipped", "error", ("clipped/saturated.ome.tif",)), Planted("clipped", "error", ("clipped/black.ome.tif",))]


def _blank(d: Path, rng: np.random.Generator) -> list[Planted]:
    _clean_cyx(d, rng)
    img = natural_cyx(rng)
    img[2] = OFFSET  # dead channel: constant offset
    write_ome(d / "dead_channel.ome.tif", img, "CYX", channels=CHANNELS)
    return [Planted("blank", "error", ("blank/dead_channel.ome.tif",))]


def _blank_z(d: Path, rng: np.random.Generator) -> list[Planted]:
    _clean_zyx(d, rng)
    stack = natural_stack(rng)
    stack[:2] = _camera(rng, np.zeros((2, SIDE, SIDE)))  # empty Z ends: offset and noise only
    write_ome(d / "empty_ends.ome.tif", stack, "ZYX")
    return [Planted("blank", "warning", ("blank-z/empty_ends.ome.tif",))]


def _focus(d: Path, rng: np.random.Generator) -> list[Planted]:
    _clean_zyx(d, rng)
    write_ome(d / "focus_at_top.ome.tif", natural_stack(rng, focus=0), "ZYX")
    return [Planted("focus", "warning", ("focus/focus_at_top.ome.tif",))]


def _blurry(d: Path, rng: np.random.Generator) -> list[Planted]:
    _clean_cyx(d, rng, n=LARGE_CONDITION)
    write_ome(d / "blurred.ome.tif", natural_cyx(rng, blur=3.0), "CYX", channels=CHANNELS)
    return [Planted("blurry", "warning", ("blurry/blurred.ome.tif",))]


def _outlier(d: Path, rng: np.random.Generator) -> list[Planted]:
    _clean_cyx(d, rng, n=LARGE_CONDITION)
    wrong_offset = natural_cyx(rng) + np.uint16(600)  # camera offset set wrong (or room light)
    write_ome(d / "wrong_offset.ome.tif", wrong_offset, "CYX", channels=CHANNELS)
    return [Planted("outlier", "warning", ("outlier/wrong_offset.ome.tif",))]


def _duplicate(d: Path, rng: np.random.Generator, base: Path) -> list[Planted]:
    _clean_cyx(d, rng)
    shutil.copy(d / "cells_00.ome.tif", d / "cells_00_copy.ome.tif")
    leaked = tifffile.imread(base / "blurry" / "cells_03.ome.tif")
    write_ome(d / "from_blurry.ome.tif", leaked, "CYX", channels=CHANNELS, compression="zlib")
    return [
        Planted("duplicate", "warning", ("duplicate/cells_00.ome.tif", "duplicate/cells_00_copy.ome.tif")),
        Planted("duplicate", "error", ("blurry/cells_03.ome.tif", "duplicate/from_blurry.ome.tif")),
    ]


def _near_duplicate(d: Path, rng: np.random.Generator) -> list[Planted]:
    _clean_cyx(d, rng)
    src = tifffile.imread(d / "cells_01.ome.tif").astype(np.float64)
    again = np.roll(src * 1.2 + 20, 1, axis=2)  # same field: other gain and offset, shifted by one pixel
    write_ome(d / "cells_01_again.ome.tif", np.clip(again, 0, 4095).astype(np.uint16), "CYX", channels=CHANNELS)
    return [Planted("near-duplicate", "warning", ("near-duplicate/cells_01.ome.tif", "near-duplicate/cells_01_again.ome.tif"))]


def _inconsistent(d: Path, rng: np.random.Generator) -> list[Planted]:
    _clean_cyx(d, rng)
    write_ome(d / "other_pixel_size.ome.tif", natural_cyx(rng), "CYX", pixel_size=0.2, channels=CHANNELS)
    write_ome(d / "two_channels.ome.tif", natural_cyx(rng)[:2], "CYX", channels=CHANNELS[:2])
    return [
        Planted("inconsistent", "warning", ("inconsistent/other_pixel_size.ome.tif",)),
        Planted("inconsistent", "warning", ("inconsistent/two_channels.ome.tif",)),
    ]


def _missing(d: Path, rng: np.random.Generator) -> list[Planted]:
    _clean_cyx(d, rng)
    write_ome(d / "no_metadata.ome.tif", natural_cyx(rng), "CYX", pixel_size=None, channels=None)
    img = natural_cyx(rng)
    tifffile.imwrite(d / "screen_96dpi.tif", img, photometric="minisblack", resolution=(96, 96), resolutionunit="INCH", metadata={"axes": "CYX"})
    return [
        Planted("missing-metadata", "warning", ("missing-metadata/no_metadata.ome.tif",)),
        Planted("missing-metadata", "warning", ("missing-metadata/screen_96dpi.tif",)),
    ]


def _non_finite(d: Path, rng: np.random.Generator) -> list[Planted]:
    for i in range(CLEAN_PER_CONDITION):
        ratio = natural_image(rng).astype(np.float32) / natural_image(rng).astype(np.float32)
        write_ome(d / f"ratio_{i:02d}.ome.tif", ratio, "YX")
    holes = natural_image(rng).astype(np.float32) / natural_image(rng).astype(np.float32)
    holes[10:20, 30:50] = np.nan
    write_ome(d / "ratio_holes.ome.tif", holes, "YX")
    return [Planted("non-finite", "warning", ("non-finite/ratio_holes.ome.tif",))]


def _low_range(d: Path, rng: np.random.Generator) -> list[Planted]:
    _clean_cyx(d, rng)
    write_ome(d / "dim.ome.tif", natural_cyx(rng, signal=90.0), "CYX", channels=CHANNELS)
    return [Planted("low-range", "info", ("low-range/dim.ome.tif",))]


def _shift(d: Path, rng: np.random.Generator) -> list[Planted]:
    for i in range(CLEAN_PER_CONDITION):
        write_ome(d / f"bright_{i:02d}.ome.tif", natural_cyx(rng, signal=2300.0), "CYX", channels=CHANNELS)
    return [Planted("condition-shift", "info", tuple(f"condition-shift/bright_{i:02d}.ome.tif" for i in range(CLEAN_PER_CONDITION)))]


def _uneven(d: Path, rng: np.random.Generator) -> list[Planted]:
    _clean_cyx(d, rng, n=3)
    return [Planted("uneven-conditions", "info", tuple(f"uneven/cells_{i:02d}.ome.tif" for i in range(3)))]


def _mixed(d: Path, rng: np.random.Generator) -> list[Planted]:
    _clean_cyx(d, rng)
    grey = (natural_image(rng).astype(np.float64) / 4095 * 255).astype(np.uint8)
    Image.fromarray(grey).save(d / "snapshot.jpg", quality=80)
    return [Planted("mixed-formats", "info", ("mixed/snapshot.jpg",))]


def _unreadable(d: Path, rng: np.random.Generator) -> list[Planted]:
    _clean_cyx(d, rng)
    # an interrupted copy of a Z stack: the file ends inside the third plane's pixels, and with
    # them the directories of every later page (tifffile writes those after the pixel data)
    whole = d / "stack_cut.ome.tif"
    write_ome(whole, natural_stack(rng, n_z=7), "ZYX")
    with tifffile.TiffFile(whole) as tf:
        third = tf.pages[2]
        end = third.dataoffsets[0] + third.databytecounts[0] // 2
    whole.write_bytes(whole.read_bytes()[:end])
    return [Planted("unreadable", "error", ("unreadable/stack_cut.ome.tif",))]


PLANTS: dict[str, Callable[..., list[Planted]]] = {
    "clipped": _clipped,
    "blank": _blank,
    "blank-z": _blank_z,
    "focus": _focus,
    "blurry": _blurry,
    "outlier": _outlier,
    "near-duplicate": _near_duplicate,
    "inconsistent": _inconsistent,
    "missing-metadata": _missing,
    "non-finite": _non_finite,
    "low-range": _low_range,
    "condition-shift": _shift,
    "uneven": _uneven,
    "mixed": _mixed,
    "unreadable": _unreadable,
}
"""Condition folder → writer; ``duplicate`` is written last (it copies from ``blurry``)."""


def write_planted(base: Path, seed: int = 2) -> list[Planted]:
    """Every planted case, each in its own condition folder; returns what must be found."""
    rng = np.random.default_rng(seed)
    out: list[Planted] = []
    for name, writer in PLANTS.items():
        out += writer(base / name, rng)
    out += _duplicate(base / "duplicate", rng, base)
    return out


def scan(base: Path, out: Path, loader: str = "bioio") -> Path:
    """Scan ``base`` with one condition per sub-folder; returns the report path."""
    project = api.create_project("planted", base, loader=loader, output_path=out)
    project = api.add_paths(project, sorted(p.name for p in base.iterdir() if p.is_dir()))
    api.process_files(project, max_workers=1)
    return out
