"""True bit depth ``b`` of each image, and the values its pixels saturate at.

A file states its bit depth when ``significant_bits`` is below the width of its type (OME's
SignificantBits = 12 in uint16). Otherwise the column only repeats the type (TIFF's
BitsPerSample says 16 for 12-bit camera data too), so ``b`` is inferred: the smallest of
8, 10, 12, 14, 16 (not above the type) whose ``2^b − 1`` holds the largest value among the
condition's files of that type. A 12-bit camera that saturates writes 4095, so its files give
b = 12 and their saturated pixels are found at 4095. A stated depth that the data exceed
(values above ``2^b − 1``) is not believed and ``b`` is inferred instead. Floats have no bit
depth; images whose maximum fits none of the candidates saturate at their type's maximum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pixel_patrol_base.findings.frame import Frame

CANDIDATES = (8, 10, 12, 14, 16)


@dataclass(frozen=True, slots=True)
class BitDepth:
    """Per report row: ``bits`` (0 where unknown), the saturation value and the type minimum."""

    bits: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    stated: np.ndarray

    @property
    def known(self) -> np.ndarray:
        """Rows of integer images, where saturation is defined."""
        return self.bits > 0


def _type_limits(name: str) -> tuple[int, int, int] | None:
    """(width in bits, min, max) of an integer dtype name; None for floats and unknown names."""
    try:
        dt = np.dtype(name)
    except TypeError:
        return None
    if dt.kind not in "iu":
        return None
    info = np.iinfo(dt)
    return dt.itemsize * 8, int(info.min), int(info.max)


def bit_depths(frame: Frame) -> BitDepth:
    """``b`` per row (rows inherit their image's), from the rules in the module docstring."""
    dtype = frame.strings("dtype")
    limits = [_type_limits(v) for v in dtype.values]
    img_rows = frame.image_rows
    n = frame.n
    bits, top = np.zeros(n, dtype=np.int64), np.full(n, np.nan)
    bottom, stated = np.full(n, np.nan), np.zeros(n, dtype=bool)
    per_image_bits = np.zeros(frame.n_images, dtype=np.int64)
    per_image_stated = np.zeros(frame.n_images, dtype=bool)
    mx = frame.num("max_intensity")
    sig = frame.num("significant_bits")
    groups = frame.cond.codes[img_rows] * (len(dtype.values) + 1) + dtype.codes[img_rows]
    for g in np.unique(groups):
        members = img_rows[groups == g]
        lim = limits[dtype.codes[members[0]]] if dtype.codes[members[0]] >= 0 else None
        if lim is None:
            continue
        inferred = _inferred(lim, np.nanmax(mx[members]) if np.isfinite(mx[members]).any() else 0.0)
        own = sig[members]
        ok = np.isfinite(own) & (own > 0) & (own < lim[0])
        ok &= ~(np.nan_to_num(mx[members], nan=0.0) > 2.0 ** np.where(ok, own, 0) - 1)
        img = frame.image[members]
        per_image_bits[img] = np.where(ok, np.nan_to_num(own).astype(np.int64), inferred)
        per_image_stated[img] = ok
    bits = per_image_bits[frame.image]
    stated = per_image_stated[frame.image]
    codes = dtype.codes
    tmax = np.array([lim[2] if lim else np.nan for lim in limits] + [np.nan])
    tmin = np.array([lim[1] if lim else np.nan for lim in limits] + [np.nan])
    type_max, type_min = tmax[codes], tmin[codes]
    top = np.where(bits > 0, np.minimum(2.0**bits - 1, type_max), np.nan)
    bottom = np.where(bits > 0, type_min, np.nan)
    return BitDepth(bits, top, bottom, stated)


def _inferred(lim: tuple[int, int, int], largest: float) -> int:
    """Smallest candidate depth (≤ the type) holding ``largest``; the type's width otherwise."""
    width, _, tmax = lim
    for b in CANDIDATES:
        if b <= width and 2**b - 1 <= tmax and largest <= 2**b - 1:
            return b
    return width
