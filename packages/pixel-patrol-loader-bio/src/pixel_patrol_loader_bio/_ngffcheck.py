"""Refusing Zarr stores that lack images their own metadata declares.

The store walk finds the images that are there. Two layouts also say what should be there: a
bioformats2raw store lists its series (``OME/.zattrs`` ``series``, else the images of
``OME/METADATA.ome.xml``) and an HCS plate lists its wells and each well its fields. A store
missing one of those (a deleted or never-copied folder) would otherwise be reported as a
smaller store with no error.

Missing *chunks* are not checked: the Zarr specification lets writers omit chunks that hold
only the fill value, so a missing chunk file reads as fill values, exactly as zarr-python
reads it; it cannot be told apart from a sparse array.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from pixel_patrol_base.errors import ImageReadError
from pixel_patrol_loader_bio._ngff import ngff_attrs
from pixel_patrol_loader_bio._zarrstore import node

READER = "zarr"


def check_declared(root: str, images: Sequence[Any]) -> None:
    """Raise :class:`ImageReadError` when ``images`` found in ``root`` miss declared ones."""
    info = node(root)
    if info is None:
        return
    attrs = ngff_attrs(info[1])
    bf2raw = "bioformats2raw.layout" in attrs or "bioformats2raw.layout" in info[1]
    problem = _bf2raw_problem(root, attrs, images) if bf2raw else None
    if problem is None and isinstance(attrs.get("plate"), dict):
        problem = _plate_problem(root, attrs["plate"])
    if problem:
        raise ImageReadError(root, f"incomplete store: {problem}", READER)


def _bf2raw_problem(root: str, attrs: dict[str, Any], images: Sequence[Any]) -> str | None:
    declared, source = _bf2raw_series(root)
    if not declared or isinstance(attrs.get("plate"), dict):
        return None  # a bioformats2raw plate is checked through its plate metadata
    found = {im.array_path.split("/", 1)[0] for im in images}
    missing = [s for s in declared if s not in found]
    return _missing(len(declared), missing, "series", source)


def _bf2raw_series(root: str) -> tuple[list[str], str]:
    """The series a bioformats2raw store declares, and the file that declares them."""
    ome = os.path.join(root, "OME")
    info = node(ome)
    listed = (info[1].get("series") if info else None) or []
    if isinstance(listed, list) and listed:
        return [str(s) for s in listed], "OME/.zattrs"
    xml_path = os.path.join(ome, "METADATA.ome.xml")
    if not os.path.isfile(xml_path):
        return [], ""
    from xml.etree.ElementTree import ParseError

    from pixel_patrol_loader_bio._omexml import parse_ome

    try:
        with open(xml_path, encoding="utf-8") as fh:
            count = len(parse_ome(fh.read()))
    except (ParseError, OSError, UnicodeDecodeError):
        return [], ""
    return [str(i) for i in range(count)], "OME/METADATA.ome.xml"


def _plate_problem(root: str, plate: dict[str, Any]) -> str | None:
    """Wells the plate lists that are not in the store, then fields the wells list."""
    wells = [str(w.get("path")) for w in plate.get("wells") or [] if isinstance(w, dict)]
    missing = [w for w in wells if node(os.path.join(root, w)) is None]
    if missing:
        return _missing(len(wells), missing, "wells", "the plate metadata")
    fields: list[str] = []
    for well in wells:
        info = node(os.path.join(root, well))
        listed = (ngff_attrs(info[1]).get("well") or {}).get("images") if info else None
        fields += [f"{well}/{f.get('path')}" for f in listed or [] if isinstance(f, dict)]
    missing = [f for f in fields if node(os.path.join(root, f)) is None]
    return _missing(len(fields), missing, "fields", "the plate metadata") if missing else None


def _missing(declared: int, missing: list[str], what: str, source: str) -> str | None:
    if not missing:
        return None
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return (
        f"{declared - len(missing)} of {declared} {what} readable "
        f"({source} declares {declared}; missing: {shown})"
    )
