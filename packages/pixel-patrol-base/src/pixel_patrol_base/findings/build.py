"""Turning flagged rows into grouped findings, shared by every rule.

A rule marks rows; these helpers drop rows already covered by a flagged coarser row (a slice
of an image that is itself flagged), split the rest by condition and scope, and make one
:class:`~pixel_patrol_base.findings.model.Finding` per group, so thousands of rows with one
cause read as one line.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pixel_patrol_base.findings.frame import DIMS, Frame
from pixel_patrol_base.findings.model import Finding, Scope, Severity
from pixel_patrol_base.findings.stats import dense_ids


@dataclass(frozen=True, slots=True)
class Text:
    """What a group of rows says: the message (given the rows) and what to do."""

    message: Callable[..., str]
    """Called with the group's rows (display order) and returns one sentence."""
    action: str


def row_keys(frame: Frame, rows: np.ndarray) -> np.ndarray:
    """``(len(rows), 5)`` int64: image id and dim_z, dim_t, dim_c, dim_s (-1 = spans)."""
    return np.column_stack([frame.image[rows], *(frame.dims[a][rows] for a in DIMS)])


def _member(keys: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Whether each row of ``keys`` is a row of ``pool`` (both (n, 5) int64)."""
    if not len(keys) or not len(pool):
        return np.zeros(len(keys), dtype=bool)
    both = np.concatenate([pool, keys])
    inv, _ = dense_ids(*both.T)
    return np.isin(inv[len(pool) :], inv[: len(pool)])


def uncovered(frame: Frame, rows: np.ndarray, cover: np.ndarray | None = None) -> np.ndarray:
    """``rows`` without those that have a proper ancestor among ``cover`` (default: ``rows``).

    An ancestor is a row of the same image that fixes a subset of the row's axes at the same
    blocks: the image row covers every slice, the z=3 row covers (z=3, c=1).
    """
    cover = rows if cover is None else cover
    if not len(rows):
        return rows
    keys, pool = row_keys(frame, rows), row_keys(frame, cover)
    drop = np.zeros(len(rows), dtype=bool)
    for k in range(1, len(DIMS) + 1):
        for subset in itertools.combinations(range(1, len(DIMS) + 1), k):
            cols = list(subset)
            applies = (keys[:, cols] >= 0).all(axis=1)
            if not applies.any():
                continue
            parent = keys[applies].copy()
            parent[:, cols] = -1
            hit = np.zeros(len(rows), dtype=bool)
            hit[applies] = _member(parent, pool)
            drop |= hit
    return rows[~drop]


def scope_of(frame: Frame, rows: np.ndarray) -> Scope:
    """``image`` when every row is a whole image, ``slice`` otherwise."""
    return "image" if bool(np.all(frame.obs[rows] == 0)) else "slice"


def files_of(frame: Frame, rows: np.ndarray) -> tuple[str, ...]:
    """Distinct imported_path values of ``rows``, in row order."""
    codes = frame.path.codes[rows]
    _, first = np.unique(codes, return_index=True)
    return tuple(frame.path.values[c] for c in codes[np.sort(first)] if c >= 0)


def _plain(v: Any) -> float | int | str | None:
    if v is None:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return None if v != v else round(v, 6)
    return v  # type: ignore[no-any-return]


_SINGULAR = re.compile(r"^(1 (?:image|slice in 1 file|file)) (have|are|contain|use|look|fall|differ)\b")
_VERB = {"have": "has", "are": "is", "contain": "contains", "use": "uses", "look": "looks", "fall": "falls", "differ": "differs"}


def agree(message: str) -> str:
    """Singular verb after a leading count of one ('1 image has', not '1 image have')."""
    return _SINGULAR.sub(lambda m: f"{m.group(1)} {_VERB[m.group(2)]}", message)


def finding(
    frame: Frame,
    rid: str,
    severity: Severity,
    rows: np.ndarray,
    text: Text,
    *,
    value: Any = None,
    threshold: Any = None,
    evidence: Sequence[Any] | np.ndarray | None = None,
    condition: str | None = None,
    scope: Scope | None = None,
) -> Finding:
    """One finding over ``rows`` (already in display order: worst first)."""
    ev = () if evidence is None else tuple(_plain(v) for v in evidence)
    return Finding(
        id=rid,
        severity=severity,
        scope=scope or scope_of(frame, rows),
        message=agree(text.message(rows)),
        files=files_of(frame, rows),
        rows=frame.keys(rows),
        value=_plain(value),
        threshold=_plain(threshold),
        condition=condition,
        action=text.action,
        evidence=ev,
    )


def by_condition_and_scope(frame: Frame, rows: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Split ``rows`` into (condition, rows) groups, whole images apart from slices."""
    out = []
    whole = frame.obs[rows] == 0
    for part in (rows[whole], rows[~whole]):
        cond = frame.cond.codes[part]
        for c in np.unique(cond):
            label = frame.cond.values[c] if c >= 0 else "."
            out.append((label, part[cond == c]))
    return out


def count_phrase(frame: Frame, rows: np.ndarray) -> str:
    """'3 images', '12 slices in 4 files' or '1 image' for a group of rows."""
    n_files = len(np.unique(frame.path.codes[rows]))
    if bool(np.all(frame.obs[rows] == 0)):
        return plural(len(rows), "image")
    return f"{plural(len(rows), 'slice')} in {plural(n_files, 'file')}"


def plural(n: int, word: str) -> str:
    """'1 file', '2 files', '1,234 images'."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def pct(x: float) -> str:
    """A fraction as a short percentage ('0.12 %', '4.5 %', '100 %')."""
    p = 100.0 * x
    if p >= 10 or p == 0:
        return f"{p:.0f} %"
    if p >= 1:
        return f"{p:.1f} %"
    return f"{p:.2g} %"
