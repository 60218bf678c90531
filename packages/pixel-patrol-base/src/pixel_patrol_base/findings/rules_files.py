"""File-level rules: ``unreadable``, ``uneven-conditions`` and ``mixed-formats``."""

from __future__ import annotations

import re

import numpy as np

from pixel_patrol_base.findings.build import Text, finding, plural
from pixel_patrol_base.findings.context import Context
from pixel_patrol_base.findings.model import Finding
from pixel_patrol_base.findings.stats import dense_ids

_NUMBER = re.compile(r"\d+")


def _cause(message: str, path: str) -> str:
    """The error text without the file's own path or name, numbers generalised for grouping."""
    text = message.replace(path, "").replace(path.rsplit("/", 1)[-1], "")
    text = text.strip(" :")
    return _NUMBER.sub("#", text)


def unreadable(ctx: Context) -> list[Finding]:
    """Error rows, one finding per stage and cause."""
    f = ctx.frame
    rows = np.flatnonzero(f.error)
    if not len(rows):
        return []
    messages = f.strings("error")
    stages = f.strings("error_stage")
    groups: dict[tuple[str, str], list[int]] = {}
    for i in rows.tolist():
        key = (stages.at(i) or "process", _cause(messages.at(i) or "", f.file(i)))
        groups.setdefault(key, []).append(i)
    out = []
    for (stage, _), members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        sel = np.array(members, dtype=np.int64)
        example = messages.at(members[0]) or ""
        text = Text(
            lambda r, s=stage, e=example: f"{plural(len(np.unique(f.path.codes[r])), 'file')} failed at the {s} stage: {e}",
            "Open one of these files in its acquisition software: re-export or re-copy truncated or corrupt files; install the reader a format needs.",
        )
        evidence = [messages.at(i) for i in members]
        out.append(finding(f, "unreadable", "error", sel, text, value=len(members), threshold=0, evidence=evidence, scope="file"))
    return out


def uneven_conditions(ctx: Context) -> list[Finding]:
    """Conditions with at least ``ratio`` times fewer files than the largest (info)."""
    f = ctx.frame
    if len(f.cond.values) < 2:
        return []
    top = np.flatnonzero((f.obs == 0) & (f.cond.codes >= 0))
    pair, n_pairs = dense_ids(f.cond.codes[top], f.path.codes[top])
    first = np.full(n_pairs, len(pair), dtype=np.int64)
    np.minimum.at(first, pair, np.arange(len(pair)))
    counts = np.bincount(f.cond.codes[top][first], minlength=len(f.cond.values))
    largest = int(counts.max())
    out = []
    for c in np.argsort(counts, kind="stable"):
        label = ctx.cond_label(int(c))
        ratio = largest / max(int(counts[c]), 1)
        limit = ctx.settings.get("uneven-conditions", "ratio", label)
        if ratio < limit:
            continue
        rows = np.flatnonzero((f.cond.codes == c) & (f.obs == 0))
        text = Text(
            lambda r, n=int(counts[c]), q=ratio: f"condition has {plural(n, 'file')}, {q:.1f}× fewer than the largest ({largest:,})",
            "Balance the conditions, or account for the unequal sizes in the statistics.",
        )
        out.append(finding(f, "uneven-conditions", "info", rows, text, value=ratio, threshold=limit, condition=label, scope="condition"))
    return out


def mixed_formats(ctx: Context) -> list[Finding]:
    """Lossy files (JPEG, …) in a condition that also holds lossless files (info)."""
    f = ctx.frame
    ext = f.strings("file_extension")
    lossy_names = {e.lower() for e in ctx.settings.get("mixed-formats", "lossy_extensions")}
    lossy = np.array([v.lower() in lossy_names for v in ext.values] + [False])[ext.codes]
    rows = np.flatnonzero(f.obs == 0)
    out = []
    for c in np.unique(f.cond.codes[rows]):
        sel = rows[f.cond.codes[rows] == c]
        bad = sel[lossy[sel]]
        if not len(bad) or len(bad) == len(sel):
            continue
        text = Text(
            lambda r: f"{plural(len(np.unique(f.path.codes[r])), 'file')} are stored in a lossy format (JPEG, …) among lossless files",
            "Use the lossless originals: lossy compression alters intensities and adds block artefacts.",
        )
        evidence = [ext.at(int(i)) for i in bad]
        out.append(finding(f, "mixed-formats", "info", bad, text, value=len(bad), threshold=0, evidence=evidence, condition=ctx.cond_label(int(c)), scope="file"))
    return out
