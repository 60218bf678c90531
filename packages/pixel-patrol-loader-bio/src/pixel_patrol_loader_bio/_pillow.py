"""PNG, JPEG and BMP for the ``bioio`` loader, decoded with Pillow as bioio-imageio does.

bioio-imageio reads these formats through imageio's Pillow plugin with its defaults: frame 0,
palettes applied (mode ``P`` converted to the palette's mode), a PNG in mode ``I`` as
16-bit, no EXIF rotation and no gamma correction; the array is what ``numpy.asarray`` makes
of the Pillow image (mode ``1`` gives bool, ``LA`` two samples). Those rules need Pillow only,
while imageio, bioio and xarray cost seconds of imports per worker process. Axes follow
bioio-imageio's guess from the array shape (grey ``YX``, colour ``YXS``). Files with several
frames (APNG, MPO) go to the plugin, which stacks and pads frames its own way.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np

from pixel_patrol_base.contracts import ImageHeader
from pixel_patrol_base.errors import ImageReadError, MissingDependencyError
from pixel_patrol_loader_bio._bioio_axes import imageio_plugin_axes
from pixel_patrol_loader_bio._budget import Budget
from pixel_patrol_loader_bio._errors import NeedsPlugin, require
from pixel_patrol_loader_bio._imagefile import Planned, PlannedImageFile, dtype_name

READER = "pillow"

_LIMIT_LOCK = threading.Lock()


def plugin_mode(im: Any) -> str | None:
    """Mode imageio's Pillow plugin converts ``im`` to before making an array (``None``: none)."""
    if im.mode == "P":
        if im.palette is None:
            raise NeedsPlugin("palette image without a palette")
        return str(im.palette.mode)
    if im.format == "PNG" and im.mode == "I":
        return "I;16" if sys.byteorder == "little" else "I;16B"
    return None


def array_layout(mode: str, size: tuple[int, int]) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """Shape and dtype of ``numpy.asarray`` of a Pillow image, from its mode and size alone.

    The same rule Pillow's array interface applies, so the header needs no decoding.
    """
    from PIL import ImageMode

    desc = ImageMode.getmode(mode)
    width, height = size
    bands = len(desc.bands)
    shape = (height, width) if bands == 1 else (height, width, bands)
    return shape, np.dtype(desc.typestr)


def open_pillow(path: str, budget: Budget | None = None) -> PlannedImageFile:
    """Open a PNG, JPEG or BMP file; only its header is read.

    These formats decode whole images only, so with ``budget`` an image larger than it is
    refused before decoding. Pillow's own guard against decompression bombs
    (``MAX_IMAGE_PIXELS``) then gives way to the budget, which is the limit the run was
    sized for; without a budget Pillow's guard applies.

    Raises
    ------
    NeedsPlugin
        For files with several frames or a palette image without a palette.
    ImageReadError
        When Pillow cannot identify or parse the file (named ``pillow``).
    MissingDependencyError
        When Pillow is not installed.
    """
    image = require("PIL.Image", "pillow", "to read PNG, JPEG and BMP files")
    budget = budget or Budget()
    try:
        im = _open(image, path, budget)
    except Exception as exc:
        raise ImageReadError.from_exception(path, exc, READER) from exc
    try:
        return PillowImageFile(path, im, budget)
    except (NeedsPlugin, ImageReadError, MissingDependencyError):
        im.close()
        raise
    except Exception as exc:
        im.close()
        raise ImageReadError.from_exception(path, exc, READER) from exc


def _open(image: Any, path: str, budget: Budget) -> Any:
    """``Image.open``, without Pillow's pixel-count guard when a budget replaces it."""
    if budget.limit is None:
        return image.open(path)
    with _LIMIT_LOCK:
        saved, image.MAX_IMAGE_PIXELS = image.MAX_IMAGE_PIXELS, None
        try:
            return image.open(path)
        finally:
            image.MAX_IMAGE_PIXELS = saved


class PillowImageFile(PlannedImageFile):
    """One Pillow image; pixels are decoded once, on the first read, and kept until close.

    PNG and JPEG cannot decode a window alone, so region reads cut the decoded image; every
    read returns a fresh writable array, never the kept one.
    """

    def __init__(self, path: str, im: Any, budget: Budget | None = None) -> None:
        from pixel_patrol_loader_bio._dims import plan_axes

        if getattr(im, "n_frames", 1) != 1:
            raise NeedsPlugin(f"{im.n_frames} frames")
        self._im = im
        self._mode = plugin_mode(im)
        self._pixels: np.ndarray | None = None
        shape, dtype = array_layout(self._mode or im.mode, im.size)
        plan = plan_axes(imageio_plugin_axes(shape), shape)
        meta = {"reader": READER}
        header = ImageHeader(plan.dim_order, plan.shape, dtype_name(dtype), None, meta)
        piece = f"this {im.format or 'image'} file, which Pillow can only decode whole,"
        refusal = (budget or Budget()).refusal(piece, header.nbytes, "is {size}")
        super().__init__(path, READER, [Planned(header, plan, refusal)])

    def _read_raw(self, index: int, raw: tuple[slice, ...] | None) -> np.ndarray:
        if self._pixels is None:
            self._pixels = self._decode()
        return np.array(self._pixels if raw is None else self._pixels[raw])

    def _decode(self) -> np.ndarray:
        """All pixels, converted as imageio's plugin converts them; the file is closed after."""
        im = self._im
        try:
            return np.asarray(im.convert(self._mode) if self._mode else im)
        finally:
            im.close()

    def _release(self) -> None:
        self._im.close()
        self._pixels = None
