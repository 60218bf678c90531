"""Column values from a bioio reader (CZI, ND2, LIF, and files left to a plugin).

TIFF and Zarr metadata in the ``bioio`` loader come from the same code as in the ``tifffile``
and ``zarr`` loaders instead (see :mod:`pixel_patrol_loader_bio.bioio_loader`), so the loaders
agree on those files.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Iterator
from typing import Any

from pixel_patrol_loader_bio._meta import MICRON, as_utc, pixel_sizes, text

PLACEHOLDER = re.compile(r"^Channel:\d+:\d+$")
"""bioio's generated channel ids ('Channel:0:1'): not names stored in the file."""

RICH = frozenset({"bioio-czi", "bioio-nd2", "bioio-lif"})
"""Plugins whose ``standard_metadata`` carries acquisition facts worth the time."""


@contextlib.contextmanager
def quiet(package: str) -> Iterator[None]:
    """Silence a plugin's logging and warnings while it parses optional metadata.

    Some plugins log full tracebacks for fields a file simply lacks (LIF objectives);
    a missing optional field is not an error of the scan.
    """
    prefixes = (package.replace("-", "_"), "bioio_base", "bioio")
    known = list(logging.root.manager.loggerDict)
    names = {n for n in known if n.split(".")[0] in prefixes} | set(prefixes)
    loggers = [logging.getLogger(n) for n in sorted(names)]
    saved = [lg.disabled for lg in loggers]
    for lg in loggers:
        lg.disabled = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, was in zip(loggers, saved, strict=True):
            lg.disabled = was


def reader_metadata(reader: Any, package: str) -> dict[str, Any]:
    """Pixel sizes (bioio reports µm), channel names and, for rich formats, acquisition facts."""
    meta: dict[str, Any] = {}
    with quiet(package):
        pps = _safe(lambda: reader.physical_pixel_sizes)
        if pps is not None:
            meta.update(pixel_sizes({"X": pps.X, "Y": pps.Y, "Z": pps.Z}, MICRON))
        names = [text(c) for c in _safe(lambda: reader.channel_names) or []]
        if names and not all(n is None or PLACEHOLDER.match(n) for n in names):
            meta["channel_names"] = names
        if package in RICH:
            meta.update(_standard(_safe(lambda: reader.standard_metadata)))
    return meta


def _standard(std: Any) -> dict[str, Any]:
    if std is None:
        return {}
    return {
        "acquisition_date": as_utc(getattr(std, "imaging_datetime", None)),
        "objective": text(getattr(std, "objective", None)),
    }


def _safe(get: Any) -> Any:
    """Optional metadata: a plugin failing to provide it means the file does not have it."""
    try:
        return get()
    except Exception:  # noqa: BLE001 - optional metadata never fails the file
        return None
