"""Assemble the page's data from a report: every section's aggregates, findings, thumbnails."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa

from pixel_patrol_base.findings.model import FINDINGS_FORMAT_VERSION, Finding
from pixel_patrol_base.html import agg_hist, images, thumbs, views
from pixel_patrol_base.html.findings_view import view
from pixel_patrol_base.html.frame import ReportFrame, build_frame
from pixel_patrol_base.html.heavy import HeavySource
from pixel_patrol_base.project import ProjectMetadata

DEFAULT_MAX_THUMBNAILS = 256


def page_data(
    table: pa.Table,
    meta: ProjectMetadata,
    findings: Sequence[Finding] | Callable[[], Sequence[Finding]],
    *,
    group_by: str = "path",
    max_thumbnails: int = DEFAULT_MAX_THUMBNAILS,
    title: str | None = None,
    source: str = "",
    heavy: HeavySource | None = None,
    schema: pa.Schema | None = None,
) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready values (``timings`` says where the time went).

    ``heavy`` and ``schema`` serve a table read without its large columns (see
    :mod:`~pixel_patrol_base.html.heavy`). ``findings`` may be a function that waits for them:
    it is called only after the grouped sections are computed, so ``check`` can run meanwhile.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    frame = build_frame(table, meta, group_by, heavy, schema)
    timings["frame"] = time.perf_counter() - t0
    t = time.perf_counter()
    fams = agg_hist.families(frame)
    timings["histograms"] = time.perf_counter() - t
    frames = [frame] + [build_frame(table, meta, c, heavy, schema) for c in views.other_columns(frame)]
    grouped = [views.view(f, fams, compare=k == 0, timings=timings) for k, f in enumerate(frames)]
    t = time.perf_counter()
    fv = view(frame, findings() if callable(findings) else findings)
    timings["findings"] = time.perf_counter() - t
    t = time.perf_counter()
    chosen = thumbs.choose(frame, fv.priority(), max_thumbnails)
    uris = thumbs.encode(frame, chosen)
    timings["thumbnails"] = time.perf_counter() - t
    t = time.perf_counter()
    packed = images.pack(frame, fv.of_image, {f.group_by: f.image_group for f in frames})
    timings["images"] = time.perf_counter() - t
    return {
        "header": _header(frame, title, source, max_thumbnails, len(uris)),
        "findings": {"version": FINDINGS_FORMAT_VERSION, "items": fv.items, "targets": fv.targets},
        "views": grouped,
        "thumbnails": {str(k): v for k, v in uris.items()},
        "run": _run_facts(meta),
        "images": packed,
        "timings": timings,
    }


def _header(frame: ReportFrame, title: str | None, source: str, cap: int, shown: int) -> dict[str, Any]:
    name = frame.meta.name or "report"
    return {
        "title": title or f"Pixel Patrol — {name}",
        "project": name,
        "source": source,
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "images": frame.n_images,
        "rows": frame.table.num_rows,
        "max_thumbnails": cap,
        "thumbnails": shown,
        "descriptions": frame.descriptions,
    }


def _run_facts(meta: ProjectMetadata) -> dict[str, Any]:
    return dataclasses.asdict(meta)
