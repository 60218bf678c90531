"""Metadata rules within a condition: ``inconsistent`` and ``missing-metadata``.

Files of one condition are expected to agree on how they were acquired and stored. For every
field, files whose value is less common than the condition's most common value are named with
both values; the message says "majority" only when that value is held by more than half of the
condition's images, "most common value" otherwise (4 of 11 is no majority). RGB or 8-bit exports among 12-bit-or-more raw data
are reported as exports and not again field by field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pixel_patrol_base.findings.build import Text, finding, plural
from pixel_patrol_base.findings.context import Context
from pixel_patrol_base.findings.frame import Codes, encode
from pixel_patrol_base.findings.model import Finding
from pixel_patrol_base.findings.stats import dense_ids

INCONSISTENT_ACTION = "Check how these files were acquired or exported; analyse them apart or convert them to match the rest."
MISSING_ACTION = "Re-export with metadata (or set the calibration in the acquisition software); measurements in physical units need it."


@dataclass(frozen=True, slots=True)
class Field:
    """A compared field: its label, its per-image codes and readable values."""

    label: str
    codes: np.ndarray
    text: Callable[[int], str]
    levels: np.ndarray | None = None
    """Numeric value of each code, for fields compared with a tolerance."""
    tolerance: str | None = None


def _categorical(label: str, c: Codes, rows: np.ndarray) -> Field:
    return Field(label, c.codes[rows], lambda k: c.values[k])


def _numeric(label: str, values: np.ndarray, tolerance: str | None = None) -> Field:
    """Codes in value order (so ties between equally common values go to the smallest)."""
    finite = np.isfinite(values)
    uniq, inv = np.unique(np.where(finite, values, 0.0), return_inverse=True)
    codes = np.where(finite, inv.reshape(-1), -1)
    return Field(label, codes, lambda k: f"{uniq[k]:g}", uniq, tolerance)


def _plane(x: np.ndarray, y: np.ndarray) -> Field:
    ok = np.isfinite(x) & np.isfinite(y)
    xs, ys = np.where(ok, x, 0).astype(np.int64), np.where(ok, y, 0).astype(np.int64)
    inv, n = dense_ids(xs, ys)
    uniq = np.zeros((n, 2), dtype=np.int64)
    uniq[inv, 0], uniq[inv, 1] = xs, ys
    codes = np.where(ok, inv, -1)
    return Field("X×Y size", codes, lambda k: f"{uniq[k, 0]}×{uniq[k, 1]}")


def channel_names(ctx: Context) -> Codes:
    """channel_names joined with '|' as one string per row (null stays null)."""
    f = ctx.frame
    if not f.has("channel_names"):
        return Codes(np.full(f.n, -1, dtype=np.int64), [])
    return f.derived_codes("channel_names joined", lambda: encode(pc.binary_join(f.table.column("channel_names"), "|").cast(pa.string())))


def _fields(ctx: Context, rows: np.ndarray) -> list[Field]:
    """The compared fields, coded for ``rows`` only (the image rows, not their many slices)."""
    f = ctx.frame
    x, y = f.num("X_size")[rows], f.num("Y_size")[rows]
    out = [_categorical("dtype", f.strings("dtype"), rows), _categorical("dim_order", f.strings("dim_order"), rows)]
    out += [_numeric(f"{a}_size", f.num(f"{a}_size")[rows]) for a in "ZCT"]
    out.append(_plane(x, y))
    out += [_numeric(f"pixel_size_{a}", f.num(f"pixel_size_{a}")[rows], "pixel_size_tolerance") for a in "XY"]
    out.append(_categorical("pixel_size_unit", f.strings("pixel_size_unit"), rows))
    out.append(_categorical("channel_names", channel_names(ctx), rows))
    out.append(_categorical("objective", f.strings("objective"), rows))
    out.append(_numeric("exposure_time_s", f.num("exposure_time_s")[rows], "exposure_tolerance"))
    out.append(_numeric("significant_bits", f.num("significant_bits")[rows]))
    return out


def inconsistent(ctx: Context) -> list[Finding]:
    """Minority files per field and condition (warning)."""
    f = ctx.frame
    rows = f.image_rows
    exports = _exports(ctx, rows)
    out = _export_findings(ctx, rows[exports])
    rows = rows[~exports]
    for field in _fields(ctx, rows):
        out += _field_findings(ctx, field, rows)
    return out


def _majority(cond: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: its condition's most common code (ties: the smallest), its count, valid count.

    ``cond`` holds non-negative condition ids.
    """
    valid = codes >= 0
    n_cond = int(cond.max()) + 1
    best = np.full(n_cond, -1, dtype=np.int64)
    best_n = np.zeros(n_cond, dtype=np.int64)
    if valid.any():
        cv, kv = cond[valid], codes[valid]
        ids, n_ids = dense_ids(cv, kv)
        counts = np.bincount(ids, minlength=n_ids)
        first = np.full(n_ids, len(ids), dtype=np.int64)
        np.minimum.at(first, ids, np.arange(len(ids)))
        pc, pk = cv[first], kv[first]
        order = np.lexsort((pk, -counts, pc))
        head = order[np.r_[True, pc[order][1:] != pc[order][:-1]]]
        best[pc[head]], best_n[pc[head]] = pk[head], counts[head]
    total = np.bincount(cond[valid], minlength=n_cond)
    return best[cond], best_n[cond], total[cond]


def _field_findings(ctx: Context, field: Field, rows: np.ndarray) -> list[Finding]:
    f = ctx.frame
    cond, codes = f.cond.codes[rows], field.codes
    if not (codes >= 0).any():
        return []
    major, major_n, total = _majority(cond + 1, codes)
    # a value as common as the majority is not a minority: ties are not reported
    pair, n_pairs = dense_ids(cond, codes)
    value_n = np.bincount(pair, minlength=n_pairs)[pair]
    differs = (codes >= 0) & (codes != major) & (value_n < major_n)
    if field.tolerance is not None and field.levels is not None:
        v = field.levels[np.maximum(codes, 0)]
        ref = field.levels[np.maximum(major, 0)]
        tol = ctx.per_row("inconsistent", field.tolerance, rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            differs &= np.abs(v - ref) > tol * np.abs(ref)
    out = []
    for c in np.unique(cond[differs]):
        sel = differs & (cond == c)
        out.append(_minority_finding(ctx, field, rows[sel], codes[sel], int(major[sel][0]), int(major_n[sel][0]), int(total[sel][0]), int(c)))
    return out


def _minority_finding(
    ctx: Context, field: Field, rows: np.ndarray, codes: np.ndarray, major: int, major_n: int, total: int, c: int
) -> Finding:
    f = ctx.frame
    cond = ctx.cond_label(c)
    vals, counts = np.unique(codes, return_counts=True)
    common = field.text(int(vals[np.argmax(counts)]))
    majority = field.text(major)
    text = Text(
        lambda r: f"{field.label}: {len(r):,} of {total:,} images {'differs' if len(r) == 1 else 'differ'} from {reference_phrase(majority, major_n, total)}, e.g. {common}",
        INCONSISTENT_ACTION,
    )
    texts = {k: field.text(k) for k in np.unique(codes).tolist()}
    evidence = [texts[k] for k in codes.tolist()]
    return finding(f, "inconsistent", "warning", rows, text, value=common, threshold=majority, evidence=evidence, condition=cond)


def reference_phrase(value: str, count: int, total: int) -> str:
    """'the condition's majority value X (9 of 11 images)', or 'most common value' when X is
    held by half of the images or fewer."""
    kind = "majority value" if 2 * count > total else "most common value"
    return f"the condition's {kind} {value} ({count:,} of {plural(total, 'image')})"


def _exports(ctx: Context, rows: np.ndarray) -> np.ndarray:
    """RGB or 8-bit images in conditions whose majority is raw data of 12 or more bits."""
    f = ctx.frame
    dtype = f.strings("dtype")
    wide = np.array([v.startswith(("uint", "int")) and v not in ("uint8", "int8") for v in dtype.values] + [False])
    rgb = np.isin(f.num("S_size")[rows], (3, 4))
    narrow = np.array([v in ("uint8", "int8", "bool") for v in dtype.values] + [False])[dtype.codes[rows]]
    raw = wide[dtype.codes[rows]] & ~rgb
    cond = f.cond.codes[rows]
    raw_share = np.bincount(cond + 1, weights=raw, minlength=len(f.cond.values) + 1) / np.maximum(np.bincount(cond + 1, minlength=len(f.cond.values) + 1), 1)
    result: np.ndarray = (rgb | narrow) & (raw_share[cond + 1] > 0.5)
    return result


def _export_findings(ctx: Context, rows: np.ndarray) -> list[Finding]:
    f = ctx.frame
    out = []
    for c in np.unique(f.cond.codes[rows]):
        sel = rows[f.cond.codes[rows] == c]
        text = Text(
            lambda r: f"{plural(len(r), 'image')} are RGB or 8-bit exports among raw data of 12 bits or more",
            "Use the raw files for analysis; exports lose bit depth and are often contrast-adjusted.",
        )
        evidence = [f"{f.strings('dtype').at(int(i))} {f.strings('dim_order').at(int(i))}" for i in sel]
        out.append(finding(f, "inconsistent", "warning", sel, text, value="export", threshold="raw", evidence=evidence, condition=ctx.cond_label(int(c))))
    return out


def missing_metadata(ctx: Context) -> list[Finding]:
    """Metadata missing where most of the condition has it, and screen resolutions as sizes."""
    f = ctx.frame
    rows = f.image_rows
    present = {
        "pixel size": np.isfinite(f.num("pixel_size_X")[rows]),
        "pixel size unit": f.strings("pixel_size_unit").codes[rows] >= 0,
        "channel names": channel_names(ctx).codes[rows] >= 0,
    }
    cond = f.cond.codes[rows] + 1
    out = []
    for label, has in present.items():
        share = np.bincount(cond, weights=has, minlength=len(f.cond.values) + 1) / np.maximum(np.bincount(cond, minlength=len(f.cond.values) + 1), 1)
        missing = ~has & (share[cond] >= 0.5)
        for c in np.unique(cond[missing]):
            sel = rows[missing & (cond == c)]
            text = Text(lambda r, lb=label: f"{plural(len(r), 'image')} have no {lb} while most of their condition has one", MISSING_ACTION)
            out.append(finding(f, "missing-metadata", "warning", sel, text, value=label, threshold="present", evidence=[None] * len(sel), condition=ctx.cond_label(int(c) - 1)))
    return out + _screen_resolution(ctx, rows)


def _screen_resolution(ctx: Context, rows: np.ndarray) -> list[Finding]:
    f = ctx.frame
    size = f.num("pixel_size_X")[rows]
    unit = f.strings("pixel_size_unit")
    micron = np.array([v in ("µm", "um", "micron") for v in unit.values] + [False])[unit.codes[rows]]
    dpi = np.array(ctx.settings.get("missing-metadata", "screen_dpi"), dtype=np.float64)
    tol = float(ctx.settings.get("missing-metadata", "dpi_tolerance"))
    if not len(dpi):
        return []
    rel = np.abs(size[:, None] / (25400.0 / dpi[None, :]) - 1.0)
    match = micron & np.isfinite(size) & (np.nanmin(np.where(np.isfinite(rel), rel, np.inf), axis=1) <= tol)
    out = []
    for c in np.unique(f.cond.codes[rows[match]]):
        sel = rows[match & (f.cond.codes[rows] == c)]
        found = dpi[np.argmin(np.abs(f.num("pixel_size_X")[sel][:, None] / (25400.0 / dpi[None, :]) - 1.0), axis=1)]
        text = Text(
            lambda r, d=found: f"{plural(len(r), 'image')} have a pixel size that is a {int(d[0])}-dpi screen or printer resolution ({25400 / d[0]:.1f} µm), not a calibration",
            MISSING_ACTION,
        )
        out.append(finding(f, "missing-metadata", "warning", sel, text, value=float(25400 / found[0]), threshold="calibrated", evidence=[float(v) for v in f.num("pixel_size_X")[sel]], condition=ctx.cond_label(int(c))))
    return out
