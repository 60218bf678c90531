"""File-name rules shared by the loaders."""

from __future__ import annotations

import os

COMPOUND = ("ome.tiff", "ome.tif", "ome.zarr", "ome.btf", "ome.tf2", "ome.tf8")
"""Extensions made of two suffixes, matched before the last suffix alone."""


def extension(path: str | os.PathLike[str]) -> str:
    """Lower-case extension without the dot; known compound extensions are kept whole."""
    name = os.path.basename(os.fspath(path).rstrip("/\\")).lower()
    for ext in COMPOUND:
        if name.endswith("." + ext):
            return ext
    return name.rsplit(".", 1)[1] if "." in name else ""
