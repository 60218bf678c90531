"""Recognising Zarr stores on disk (v2 and v3) from their metadata files alone.

Discovery asks this for every folder it meets, so it must not import zarr: it only looks for
the metadata files a Zarr node always has.
"""

from __future__ import annotations

import json
import os
from typing import Any

V2_FILES = (".zattrs", ".zgroup", ".zarray")
V3_FILE = "zarr.json"


def is_dataset_dir(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is the root of a Zarr store (whatever the folder is called)."""
    p = os.fspath(path)
    return os.path.isdir(p) and any(
        os.path.isfile(os.path.join(p, n)) for n in (V3_FILE, *V2_FILES)
    )


def _json(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return data if isinstance(data, dict) else {}


def node(path: str) -> tuple[str, dict[str, Any]] | None:
    """``("array" | "group", attributes)`` of the Zarr node at ``path``, or ``None``.

    A v2 folder with only ``.zattrs`` (some writers omit ``.zgroup``) counts as a group.
    """
    v3 = os.path.join(path, V3_FILE)
    if os.path.isfile(v3):
        meta = _json(v3)
        kind = "array" if meta.get("node_type") == "array" else "group"
        attrs = meta.get("attributes") or {}
        if kind == "array" and meta.get("dimension_names"):
            attrs = {**attrs, "_dimension_names": meta["dimension_names"]}
        return kind, attrs
    files = {n for n in V2_FILES if os.path.isfile(os.path.join(path, n))}
    if not files:
        return None
    attrs = _json(os.path.join(path, ".zattrs")) if ".zattrs" in files else {}
    return ("array" if ".zarray" in files else "group"), attrs
