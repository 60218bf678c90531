"""OME-XML to column values, for OME-TIFF files and bioformats2raw Zarr stores.

Only the standard library parser is used: OME-XML is small, and pulling in ``ome-types``
(pydantic models of the whole schema) would cost more than reading the pixels of a small
image. Namespaces differ between schema versions, so elements are matched by local name.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from pixel_patrol_loader_bio._meta import as_float, as_utc, pixel_sizes, text

_SECONDS = {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "μs": 1e-6, "us": 1e-6, "ns": 1e-9,
            "min": 60.0, "h": 3600.0}  # fmt: skip


@dataclass(frozen=True, slots=True)
class OmeImage:
    """One ``<Image>`` of an OME-XML document.

    Besides the column values it keeps what bioio-ome-tiff derives its axes from (dimension
    order, sizes, channel count, samples per pixel of the first channel), so the ``bioio``
    loader can report the same axes without that plugin.
    """

    name: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    dimension_order: str | None = None
    sizes: dict[str, int] = field(default_factory=dict)
    """``SizeT``, ``SizeC``, ``SizeZ``, ``SizeY``, ``SizeX`` by letter (missing ones left out)."""
    channels: int = 0
    samples_per_pixel: int | None = None
    """``SamplesPerPixel`` of the first ``<Channel>``."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(elem: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in elem if _local(c.tag) == name]


def _child(elem: ET.Element | None, name: str) -> ET.Element | None:
    if elem is None:
        return None
    return next((c for c in elem if _local(c.tag) == name), None)


def parse_ome(xml: str) -> list[OmeImage]:
    """Images of an OME-XML document, in document order.

    Raises
    ------
    xml.etree.ElementTree.ParseError
        When ``xml`` is not well-formed.
    """
    root = ET.fromstring(xml)
    instruments = {i.get("ID"): i for i in _children(root, "Instrument")}
    return [_image(img, instruments) for img in _children(root, "Image")]


def _image(img: ET.Element, instruments: dict[str | None, ET.Element]) -> OmeImage:
    pixels = _child(img, "Pixels")
    meta: dict[str, Any] = {}
    if pixels is not None:
        meta.update(_pixel_sizes(pixels))
        meta["significant_bits"] = _int(pixels.get("SignificantBits"))
        meta["channel_names"] = _channel_names(pixels)
        meta["exposure_time_s"] = _exposure(pixels)
    date = _child(img, "AcquisitionDate")
    meta["acquisition_date"] = as_utc(date.text) if date is not None else None
    ref = _child(img, "InstrumentRef")
    instrument = instruments.get(ref.get("ID")) if ref is not None else None
    if instrument is None and len(instruments) == 1:
        instrument = next(iter(instruments.values()))
    meta.update(_instrument(img, instrument))
    return OmeImage(text(img.get("Name")), meta, img.get("ID"), **_layout(pixels))


def _layout(pixels: ET.Element | None) -> dict[str, Any]:
    """Dimension order, sizes and channel layout of ``<Pixels>`` (see :class:`OmeImage`)."""
    if pixels is None:
        return {}
    channels = _children(pixels, "Channel")
    sizes = {a: _int(pixels.get(f"Size{a}")) for a in "TCZYX"}
    return {
        "dimension_order": pixels.get("DimensionOrder"),
        "sizes": {a: n for a, n in sizes.items() if n is not None},
        "channels": len(channels),
        "samples_per_pixel": _int(channels[0].get("SamplesPerPixel")) if channels else None,
    }


def _pixel_sizes(pixels: ET.Element) -> dict[str, Any]:
    """Physical sizes; the OME schema's default unit is µm. Mixed units are not reported."""
    sizes = {a: pixels.get(f"PhysicalSize{a}") for a in "XYZ"}
    units = {pixels.get(f"PhysicalSize{a}Unit") or "µm" for a in "XYZ" if sizes[a] is not None}
    if len(units) != 1:
        return {}
    out: dict[str, Any] = {}
    for axis, value in sizes.items():
        if value is not None:
            out.update(pixel_sizes({axis: value}, pixels.get(f"PhysicalSize{axis}Unit") or "µm"))
    return out


def _channel_names(pixels: ET.Element) -> list[str | None] | None:
    names = [text(ch.get("Name")) for ch in _children(pixels, "Channel")]
    return names if any(n is not None for n in names) else None


def _exposure(pixels: ET.Element) -> float | None:
    plane = _child(pixels, "Plane")
    if plane is None:
        return None
    value = as_float(plane.get("ExposureTime"))
    factor = _SECONDS.get(plane.get("ExposureTimeUnit") or "s")
    return value * factor if value is not None and factor is not None else None


def _instrument(img: ET.Element, instrument: ET.Element | None) -> dict[str, Any]:
    if instrument is None:
        return {}
    scope = _child(instrument, "Microscope")
    name = None
    if scope is not None:
        name = text(" ".join(filter(None, (scope.get("Manufacturer"), scope.get("Model")))))
    objectives = {o.get("ID"): o for o in _children(instrument, "Objective")}
    settings = _child(img, "ObjectiveSettings")
    objective = objectives.get(settings.get("ID")) if settings is not None else None
    if objective is None and len(objectives) == 1:
        objective = next(iter(objectives.values()))
    out: dict[str, Any] = {"instrument": name}
    if objective is not None:
        mag = as_float(objective.get("NominalMagnification"))
        out["objective"] = text(objective.get("Model")) or (f"{mag:g}x" if mag else None)
        out["numerical_aperture"] = as_float(objective.get("LensNA"))
    return out


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
