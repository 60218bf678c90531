"""The axis labels bioio's TIFF, imageio and OME-Zarr plugins give, computed without them.

The ``bioio`` loader decodes TIFF, PNG/JPEG/BMP and OME-Zarr with tifffile, Pillow and zarr
directly (see :mod:`pixel_patrol_loader_bio.bioio_loader`); its reports must not change with
that. Each function here reproduces, rule for rule from the plugin's source, the labels that
plugin hands to the shared normaliser. Where the plugin's result cannot be reproduced (it
would fail, or name axes that do not match the data), :class:`NeedsPlugin` sends the file to
the plugin itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pixel_patrol_loader_bio._errors import NeedsPlugin
from pixel_patrol_loader_bio._omexml import OmeImage

BIOIO_ORDER = "TCZYX"
"""bioio's default axis order; OME-TIFF images are always reshaped to it."""

WITH_SAMPLES = BIOIO_ORDER + "S"

UNKNOWN = "QI"
"""tifffile letters bioio-tifffile replaces: unknown axis and generic image sequence."""


def guess(ndim: int) -> str:
    """bioio's fallback guess (``Reader._guess_dim_order``): the last ``ndim`` of TCZYX.

    Written as bioio writes it, so more than five axes give bioio's (unusable) answer and
    are rejected by :func:`checked`.
    """
    return BIOIO_ORDER[len(BIOIO_ORDER) - ndim :]


def checked(labels: Sequence[str], ndim: int) -> list[str]:
    """``labels`` when bioio would handle them plainly, else :class:`NeedsPlugin`.

    Repeated labels break bioio's chunk transposition and ``M`` switches it to its mosaic
    code; the label count must match the array or bioio fails building the xarray.
    """
    out = [str(a) for a in labels]
    if len(out) != ndim:
        raise NeedsPlugin(f"{len(out)} axis labels for {ndim} axes")
    if len(set(out)) != len(out) or "M" in out:
        raise NeedsPlugin(f"axes {''.join(out)} need the plugin's own handling")
    return out


def tifffile_plugin_axes(axes: str) -> list[str]:
    """bioio-tifffile: tifffile's letters in storage order, ``Q``/``I`` renamed.

    Each unknown axis takes the first letter of the guess for the array's rank that is
    neither used yet nor among tifffile's letters (``QSYX`` -> ``CSYX``).
    """
    if not any(a in UNKNOWN for a in axes):
        return checked(list(axes), len(axes))
    candidates = guess(len(axes))
    best: list[str] = []
    for a in axes:
        if a not in UNKNOWN:
            best.append(a)
            continue
        best.append(next((c for c in candidates if c not in best and c not in axes), a))
    return checked(best, len(axes))


def ome_tiff_plugin_axes(axes: str, image: OmeImage) -> tuple[list[str], tuple[int, ...]]:
    """bioio-ome-tiff: a letter per stored axis, and the transposition to TCZYX(S).

    The plugin takes the axis set from the OME ``DimensionOrder`` (with ``S`` added or ``C``
    moved for RGB channels), renames tifffile's ``S`` to ``C`` when only OME calls it a
    channel, inserts length-1 axes for the OME axes the data lacks and reshapes to TCZYX, or
    TCZYXS with samples. Returns ``(labels, perm)`` with ``stored.transpose(perm)`` in that
    order; the inserted length-1 axes are left out (the normaliser drops them anyway).
    """
    ome = _ome_dims(image)
    stored = list(axes)
    if "S" in stored and "S" not in ome and "C" in ome and "C" not in stored:
        stored = ["C" if a == "S" else a for a in stored]
    if any(a not in ome for a in stored):
        raise NeedsPlugin(f"stored axes {axes} are not all among the OME axes {''.join(ome)}")
    for d in ome:
        if (_ome_count(d, image) == 1) == (d in stored):
            raise NeedsPlugin(f"OME size of {d} does not match the stored axes {axes}")
    order = WITH_SAMPLES if "S" in stored else BIOIO_ORDER
    perm = tuple(sorted(range(len(stored)), key=lambda i: order.index(stored[i])))
    return checked([stored[i] for i in perm], len(stored)), perm


def _ome_dims(image: OmeImage) -> list[str]:
    """Axes the plugin reads from OME: reversed ``DimensionOrder``, then the samples rule."""
    order = image.dimension_order or ""
    if sorted(order) != sorted("XYZCT") or image.channels < 1:
        raise NeedsPlugin("OME pixels without a valid DimensionOrder or any channel")
    dims = list(order[::-1])
    spp = image.samples_per_pixel
    if spp is not None and spp > 1:
        if image.channels != spp:
            dims.append("S")
        else:
            dims = [d for d in dims if d != "C"] + ["C"]
    return dims


def _ome_count(d: str, image: OmeImage) -> int:
    """The extent the plugin expects for OME axis ``d`` (channels count RGB channels)."""
    spp = image.samples_per_pixel
    if spp is not None and spp > 1 and d in "CS":
        return image.channels if d == "C" else spp
    if d not in image.sizes:
        raise NeedsPlugin(f"OME pixels without Size{d}")
    return image.sizes[d]


def imageio_plugin_axes(shape: Sequence[int]) -> list[str]:
    """bioio-imageio's guess from the decoded array's shape (grey ``YX``, colour ``YXS``)."""
    n = len(shape)
    if n == 2:
        return ["Y", "X"]
    if n == 3:
        return list("TYX" if shape[-1] > 4 else "YXS")
    if n == 4 and shape[-1] <= 4:
        return list("TYXS")
    raise NeedsPlugin(f"no bioio-imageio axes for shape {tuple(shape)}")


def ome_zarr_plugin_axes(multiscale: dict[str, Any], ndim: int) -> list[str]:
    """bioio-ome-zarr: the upper-cased NGFF axis names, else the guess for the rank."""
    axes = multiscale.get("axes") or []
    if not axes:
        return checked(list(guess(ndim)), ndim)
    if not all(isinstance(a, dict) and isinstance(a.get("name"), str) for a in axes):
        raise NeedsPlugin("NGFF axes that are not named objects")
    return checked([a["name"].upper() for a in axes], ndim)
