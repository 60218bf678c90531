"""Groupings the page can switch between: the ``--group-by`` column and a few others.

The page compares groups in every section; which column defines them is chosen on the page
from the ``--group-by`` column (shown first) and up to :data:`MAX_OTHER_VIEWS` other
categorical columns that split the images into 2 to ``MAX_GROUPS`` groups. Each grouping's
aggregates are computed here; the histograms, read once, are shared by all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pixel_patrol_base.html import agg_dist, agg_files, agg_hist, agg_meta, agg_trends
from pixel_patrol_base.html.frame import MAX_GROUPS, ReportFrame, group_codes, is_categorical

CANDIDATES = (
    "path",
    "file_extension",
    "dtype",
    "dim_order",
    "significant_bits",
    "C_size",
    "channel_names",
    "reader",
    "pixel_size_unit",
    "objective",
    "instrument",
)
MAX_OTHER_VIEWS = 4

SECTIONS: tuple[tuple[str, Callable[[ReportFrame], Any]], ...] = (
    ("summary", agg_files.summary),
    ("extensions", agg_files.extensions),
    ("file_sizes", agg_files.size_histogram),
    ("timeline", agg_files.timeline),
    ("tree", agg_files.folder_tree),
    ("metadata", agg_meta.metadata_table),
    ("dtypes", agg_meta.dtype_counts),
    ("dimensions", agg_meta.dimensions),
    ("trends", agg_trends.trends),
)


def other_columns(frame: ReportFrame) -> list[str]:
    """Candidate columns, besides the frame's own, that give 2 to MAX_GROUPS image groups."""
    out: list[str] = []
    for name in CANDIDATES:
        if len(out) >= MAX_OTHER_VIEWS:
            break
        if name == frame.group_by or name not in frame.images.column_names:
            continue
        if not is_categorical(frame.images.schema.field(name).type):
            continue
        groups, _codes, lumped = group_codes(frame.images.column(name))
        if 2 <= len(groups) <= MAX_GROUPS and not lumped:
            out.append(name)
    return out


def view(frame: ReportFrame, fams: list[agg_hist.Family], compare: bool, timings: dict[str, float]) -> dict[str, Any]:
    """Every grouped section of the page for ``frame``'s grouping."""
    import time

    out: dict[str, Any] = {
        "group_by": frame.group_by,
        "group_by_description": frame.describe(frame.group_by),
        "groups": list(frame.groups),
        "lumped": frame.lumped,
    }
    for key, fn in SECTIONS:
        t = time.perf_counter()
        out[key] = fn(frame)
        timings[key] = timings.get(key, 0.0) + time.perf_counter() - t
    t = time.perf_counter()
    out["histograms"] = agg_hist.histograms(frame, fams)
    out["distributions"] = agg_dist.distributions(frame, compare=compare)
    timings["distributions"] = timings.get("distributions", 0.0) + time.perf_counter() - t
    return out
