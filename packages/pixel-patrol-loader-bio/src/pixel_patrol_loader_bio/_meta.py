"""Small helpers that turn format-specific metadata into report column values."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pixel_patrol_loader_bio._columns import NAMES

MICRON = "µm"

_TO_MICRON = {
    "pm": 1e-6, "picometer": 1e-6, "picometre": 1e-6,
    "å": 1e-4, "angstrom": 1e-4,
    "nm": 1e-3, "nanometer": 1e-3, "nanometre": 1e-3,
    "µm": 1.0, "μm": 1.0, "um": 1.0, "micron": 1.0, "microns": 1.0,
    "micrometer": 1.0, "micrometre": 1.0,
    "mm": 1e3, "millimeter": 1e3, "millimetre": 1e3,
    "cm": 1e4, "centimeter": 1e4, "centimetre": 1e4,
    "m": 1e6, "meter": 1e6, "metre": 1e6,
    "in": 25400.0, "inch": 25400.0,
}  # fmt: skip


def pixel_sizes(sizes: Mapping[str, Any], unit: str | None) -> dict[str, Any]:
    """``pixel_size_*`` columns from ``{"X": .., "Y": .., "Z": ..}`` in ``unit``.

    Lengths in a known unit are converted to µm so files compare directly. The sign is
    dropped (some writers store a negative Z step for a stack acquired top-down; the
    distance between planes is what QC needs). Zero, NaN and missing values are not reported.
    """
    factor = _TO_MICRON.get(unit.strip().lower()) if unit else None
    out: dict[str, Any] = {}
    for axis in "XYZ":
        value = _finite(sizes.get(axis))
        if value is None or value == 0:
            continue
        out[f"pixel_size_{axis}"] = abs(value) * factor if factor else abs(value)
    if out and unit:
        out["pixel_size_unit"] = MICRON if factor else unit.strip()
    return out


def _finite(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def as_float(value: Any) -> float | None:
    """``value`` as a finite float, else ``None``."""
    return _finite(value)


def as_utc(value: Any) -> datetime | None:
    """A timezone-aware UTC datetime from a datetime or ISO-8601 text (naive = UTC)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace("Z", "+00:00")
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def text(value: Any) -> str | None:
    """Stripped non-empty string, else ``None``."""
    if value is None:
        return None
    s = " ".join(str(value).split())
    return s or None


def clean(meta: Mapping[str, Any], dim_order: str) -> dict[str, Any]:
    """Drop ``None`` values and empty lists; keys must be declared columns.

    ``pixel_size_Z`` is dropped when the image has no Z axis (a single plane): a Z step
    between planes that do not exist is noise (LSM writes 1e-19 m, bioformats2raw 1.0).

    Raises
    ------
    KeyError
        For an undeclared key: a loader bug, caught by the conformance tests.
    """
    out = {}
    for key, value in meta.items():
        if key not in NAMES:
            raise KeyError(f"metadata key {key!r} is not a declared column")
        if value is None or (isinstance(value, list) and not value):
            continue
        if key == "pixel_size_Z" and "Z" not in dim_order:
            continue
        out[key] = value
    return out


def unique_ids(names: Iterable[str | None]) -> list[str]:
    """Readable, unique child ids: the name when it is set and unique, else ``name#index``.

    An unnamed sub-image gets its index as id. Ids depend only on the file, so they are
    stable between runs.
    """
    base = [text(n) or str(i) for i, n in enumerate(names)]
    counts: dict[str, int] = {}
    for b in base:
        counts[b] = counts.get(b, 0) + 1
    return [b if counts[b] == 1 else f"{b}#{i}" for i, b in enumerate(base)]
