"""Column values from the metadata flavours of the TIFF family (OME, ImageJ, LSM, plain).

Which source is trusted follows the series kind tifffile detected: OME-XML for OME-TIFF,
ImageJ's description for ImageJ files, the CZ_LSMINFO block for LSM, and the baseline TIFF
resolution tags otherwise. Resolution tags without a unit (``ResolutionUnit = NONE``) carry no
physical size and are not reported; tags in inch or centimetre are converted to µm as stated,
so a 96-dpi photograph reports 264.58 µm pixels: that is what the file says.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pixel_patrol_loader_bio._meta import as_float, pixel_sizes, text
from pixel_patrol_loader_bio._omexml import OmeImage

_RESUNIT = {2: "inch", 3: "cm"}
_IMAGEJ_NO_UNIT = {"", "pixel", "pixels", "px"}
_OLE_EPOCH = datetime(1899, 12, 30, tzinfo=UTC)


def ome_images(tf: Any) -> list[OmeImage]:
    """Parsed OME-XML images, or an empty list when the file has none or it is malformed."""
    if not tf.is_ome:
        return []
    from xml.etree.ElementTree import ParseError

    from pixel_patrol_loader_bio._omexml import parse_ome

    try:
        return parse_ome(tf.ome_metadata or "")
    except ParseError:
        return []


def match_ome(series: Any, ome: list[OmeImage]) -> OmeImage | None:
    """The OME image of ``series``: same name (first unused), else same position."""
    if not ome or series.kind != "ome":
        return None
    index = series.index if hasattr(series, "index") else None
    named = [im for im in ome if im.name == series.name]
    if len(named) == 1:
        return named[0]
    if index is not None and 0 <= index < len(ome):
        result: OmeImage = ome[index]
        return result
    return named[0] if named else None


def series_metadata(tf: Any, series: Any, ome: OmeImage | None) -> dict[str, Any]:
    """Metadata columns of one tifffile series (``reader`` is added by the caller)."""
    page = series.keyframe
    meta: dict[str, Any] = {"significant_bits": int(page.bitspersample)}
    meta.update(_make_model(page))
    if series.kind == "ome" and ome is not None:
        meta.update({k: v for k, v in ome.metadata.items() if v is not None})
    elif series.kind == "imagej":
        meta.update(_imagej(tf.imagej_metadata or {}, page))
    elif series.kind == "lsm":
        meta.update(_lsm(tf.lsm_metadata or {}, series))
    else:
        meta.update(_resolution(page))
    return meta


def _make_model(page: Any) -> dict[str, Any]:
    parts = [page.tags.valueof(name) for name in ("Make", "Model")]
    return {"instrument": text(" ".join(str(p) for p in parts if p))}


def _ratio(page: Any, tag: str) -> float | None:
    """Pixels per unit from a RATIONAL resolution tag; ``None`` when unset or zero."""
    value = page.tags.valueof(tag)
    if not isinstance(value, tuple) or len(value) != 2 or not value[0] or not value[1]:
        return None
    result: float = value[0] / value[1]
    return result


def _sizes_from_resolution(page: Any) -> dict[str, float]:
    out = {}
    for axis in "XY":
        per_unit = _ratio(page, f"{axis}Resolution")
        if per_unit:
            out[axis] = 1.0 / per_unit
    return out


def _resolution(page: Any) -> dict[str, Any]:
    unit = _RESUNIT.get(int(page.tags.valueof("ResolutionUnit", 2) or 1))
    return pixel_sizes(_sizes_from_resolution(page), unit) if unit else {}


def _imagej(ij: dict[str, Any], page: Any) -> dict[str, Any]:
    """ImageJ stores 1/pixel-width in XResolution and names the unit in its description."""
    unit = str(ij.get("unit", "")).replace("\\u00B5", "µ").strip()
    if unit.lower() in _IMAGEJ_NO_UNIT:
        return {}
    sizes: dict[str, Any] = _sizes_from_resolution(page)
    if ij.get("slices", 1) and int(ij.get("slices", 1)) > 1 and ij.get("spacing"):
        sizes["Z"] = ij["spacing"]
    return pixel_sizes(sizes, unit)


def _lsm(lsm: dict[str, Any], series: Any) -> dict[str, Any]:
    """CZ_LSMINFO sizes are in metres; the Z size is meaningless for single-plane scans."""
    sizes = {"X": lsm.get("VoxelSizeX"), "Y": lsm.get("VoxelSizeY")}
    if int(lsm.get("DimensionZ", 1) or 1) > 1:
        sizes["Z"] = lsm.get("VoxelSizeZ")
    meta: dict[str, Any] = pixel_sizes(sizes, "m")
    colors = lsm.get("ChannelColors") or {}
    names = [text(n) for n in colors.get("ColorNames", [])]
    n_channels = int(lsm.get("DimensionChannels", 0) or 0)
    if names and len(names) == n_channels:
        meta["channel_names"] = names
    scan = lsm.get("ScanInformation") or {}
    meta["objective"] = text(scan.get("Objective"))
    meta["acquisition_date"] = _ole_date(scan.get("Sample0time"))
    return meta


def _ole_date(days: Any) -> datetime | None:
    """Zeiss stores times as OLE automation dates: days since 1899-12-30."""
    value = as_float(days)
    if value is None or value <= 0:
        return None
    try:
        return _OLE_EPOCH + timedelta(days=value)
    except OverflowError:
        return None
