"""Finding the images in a Zarr store: plain arrays and OME-Zarr (NGFF v0.1-v0.5) layouts.

A store is walked from its root. A group with ``multiscales`` metadata is one image (level 0 of
its first multiscale; lower levels and its ``labels`` are not separate images). Any other array
is an image of its own. bioformats2raw stores (``bioformats2raw.layout``) and plates (rows /
columns / fields) are covered by the same walk: their series and fields are multiscale groups.
Series names of a bioformats2raw store come from ``OME/METADATA.ome.xml`` when present.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pixel_patrol_loader_bio._dims import letter_for
from pixel_patrol_loader_bio._meta import pixel_sizes, text
from pixel_patrol_loader_bio._zarrstore import node

MAX_DEPTH = 6
"""Deepest group nesting searched (plate/row/column/field/level is 5)."""

V01_AXES = ("t", "c", "z", "y", "x")
"""NGFF v0.1 and v0.2 images are always 5-D in this order."""


@dataclass(slots=True)
class ZarrImage:
    """One image found in a store: where its level-0 array is and what its axes are."""

    array_path: str
    name: str | None
    axes: list[str] | None = None
    group: str | None = None
    """Path of the multiscale group (``""`` for the root); ``None`` for a plain array."""
    metadata: dict[str, Any] = field(default_factory=dict)
    multiscale: dict[str, Any] | None = None
    """The group's first ``multiscales`` entry as stored (bioio-ome-zarr names axes from it)."""


def ngff_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    """The NGFF part of a group's attributes (v0.5 nests it under ``"ome"``)."""
    ome = attrs.get("ome")
    return ome if isinstance(ome, dict) else attrs


def find_images(root: str) -> list[ZarrImage]:
    """Images of the store at ``root`` in natural path order.

    Raises
    ------
    ImageReadError
        When the store's metadata declares series, wells or fields that are not in it.
    """
    from pixel_patrol_loader_bio._ngffcheck import check_declared

    found = list(_walk(root, "", 0))
    found.sort(key=lambda im: _natural(im.array_path))
    check_declared(root, found)
    _name_bf2raw_series(root, found)
    return found


def _walk(root: str, rel: str, depth: int) -> Iterator[ZarrImage]:
    here = os.path.join(root, rel) if rel else root
    info = node(here)
    if info is None and depth == 0:
        return
    kind, attrs = info or ("group", {})  # a folder without metadata: an implicit group
    if kind == "array":
        dims = attrs.get("_dimension_names") or attrs.get("_ARRAY_DIMENSIONS")
        axes = [str(d) for d in dims] if isinstance(dims, list) and all(dims) else None
        yield ZarrImage(rel, rel or None, axes)
        return
    multiscales = ngff_attrs(attrs).get("multiscales")
    if isinstance(multiscales, list) and multiscales:
        yield _multiscale_image(rel, ngff_attrs(attrs), multiscales[0])
        return
    if depth >= MAX_DEPTH:
        return
    for entry in sorted(os.scandir(here), key=lambda e: _natural(e.name)):
        if entry.is_dir() and not entry.name.startswith("."):
            yield from _walk(root, f"{rel}/{entry.name}" if rel else entry.name, depth + 1)


def _multiscale_image(rel: str, ngff: dict[str, Any], ms: dict[str, Any]) -> ZarrImage:
    datasets = ms.get("datasets") or []
    if not datasets or "path" not in datasets[0]:
        raise ValueError(f"multiscales of '{rel or '/'}' lists no datasets")
    level0 = str(datasets[0]["path"])
    axes_meta = ms.get("axes")
    version = str(ms.get("version") or ngff.get("version") or "")
    if axes_meta is None and version.startswith(("0.1", "0.2")):
        axes_meta = list(V01_AXES)
    axes = [str(a.get("name") if isinstance(a, dict) else a) for a in axes_meta or []] or None
    meta = _scale_metadata(ms, datasets[0], axes_meta or [])
    meta["channel_names"] = _channel_names(ngff, ms)
    path = f"{rel}/{level0}" if rel else level0
    return ZarrImage(path, rel or None, axes, rel, meta, ms)


def _scales(transforms: Any) -> list[float] | None:
    for t in transforms or []:
        if isinstance(t, dict) and t.get("type") == "scale" and isinstance(t.get("scale"), list):
            return [float(v) for v in t["scale"]]
    return None


def _scale_metadata(ms: dict[str, Any], dataset: dict[str, Any], axes: list[Any]) -> dict[str, Any]:
    """Pixel sizes of level 0: the dataset's scale times the multiscale-wide scale, if any."""
    scale = _scales(dataset.get("coordinateTransformations"))
    outer = _scales(ms.get("coordinateTransformations"))
    if scale is None or len(scale) != len(axes):
        return {}
    if outer is not None and len(outer) == len(scale):
        scale = [a * b for a, b in zip(scale, outer, strict=True)]
    sizes: dict[str, float] = {}
    unit: str | None = None
    for ax, value in zip(axes, scale, strict=True):
        name = ax.get("name") if isinstance(ax, dict) else ax
        letter = letter_for(str(name))
        if letter in ("X", "Y", "Z"):
            sizes[letter] = value
            if isinstance(ax, dict) and ax.get("unit") and unit is None:
                unit = str(ax["unit"])
    return pixel_sizes(sizes, unit)


def _channel_names(ngff: dict[str, Any], ms: dict[str, Any]) -> list[str | None] | None:
    omero = ngff.get("omero") or (ms.get("metadata") or {}).get("omero") or {}
    channels = omero.get("channels") if isinstance(omero, dict) else None
    if not isinstance(channels, list) or not channels:
        return None
    names = [text(c.get("label")) if isinstance(c, dict) else None for c in channels]
    return names if any(n is not None for n in names) else None


def _name_bf2raw_series(root: str, images: list[ZarrImage]) -> None:
    """Name bioformats2raw series after their OME-XML ``<Image Name>`` and add its metadata."""
    info = node(root)
    if info is None or "bioformats2raw.layout" not in ngff_attrs(info[1]):
        return
    xml_path = os.path.join(root, "OME", "METADATA.ome.xml")
    if not os.path.isfile(xml_path):
        return
    from xml.etree.ElementTree import ParseError

    from pixel_patrol_loader_bio._omexml import parse_ome

    try:
        with open(xml_path, encoding="utf-8") as fh:
            ome = parse_ome(fh.read())
    except (ParseError, OSError, UnicodeDecodeError):
        return
    for im in images:
        series = im.array_path.split("/", 1)[0]
        if series.isdigit() and int(series) < len(ome):
            entry = ome[int(series)]
            im.name = entry.name or im.name
            extra = {k: v for k, v in entry.metadata.items() if im.metadata.get(k) is None}
            im.metadata.update(extra)


def _natural(path: str) -> list[Any]:
    """Sort key so that '2' sorts before '10' (plate columns, series numbers)."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path)]
