"""Findings for the page: the ``check`` findings as JSON, linked to the image rows they name.

A finding can name tens of thousands of rows (every image of a condition that differs from the
others). The page lists the first :data:`LISTED_ROWS` of each finding; ``n_rows`` and
``n_files`` keep the totals, and every image still carries the numbers of all findings that
name it (the table's ``findings`` column), so "show its images in the table" is complete.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pixel_patrol_base.findings.model import Finding
from pixel_patrol_base.html.frame import ReportFrame

LISTED_ROWS = 200


@dataclass(frozen=True)
class FindingsView:
    """The findings' JSON (exactly ``Finding.to_json``) and their links to image rows."""

    items: list[dict[str, Any]]
    targets: list[list[int]]
    """Per finding, the image row of each of its ``rows`` (of each file without rows); -1 if absent."""
    of_image: list[list[int]]
    """Per image row, the numbers of the findings that name it."""

    def priority(self) -> list[list[int]]:
        """Per finding, its distinct image rows in order (who gets a thumbnail first)."""
        return [list(dict.fromkeys(i for i in t if i >= 0)) for t in self.targets]


def _image_index(frame: ReportFrame) -> tuple[dict[tuple[str, str | None], int], dict[str, int]]:
    paths = frame.images.column("imported_path").to_pylist() if frame.has("imported_path") else []
    kids = frame.images.column("child_id").to_pylist() if frame.has("child_id") else [None] * len(paths)
    by_key: dict[tuple[str, str | None], int] = {}
    by_file: dict[str, int] = {}
    for i, (p, c) in enumerate(zip(paths, kids, strict=True)):
        by_key.setdefault((p, c), i)
        by_file.setdefault(p, i)
    return by_key, by_file


def view(frame: ReportFrame, findings: Sequence[Finding]) -> FindingsView:
    """Link every finding's rows (or files) to image rows; image rows keep the finding numbers."""
    by_key, by_file = _image_index(frame)
    targets: list[list[int]] = []
    of_image: list[list[int]] = [[] for _ in range(frame.n_images)]
    for k, f in enumerate(findings):
        if f.rows:
            idx = [by_key.get((r.imported_path, r.child_id), by_file.get(r.imported_path, -1)) for r in f.rows]
        else:
            idx = [by_file.get(p, -1) for p in f.files]
        targets.append(idx)
        for i in dict.fromkeys(idx):
            if i >= 0:
                of_image[i].append(k)
    return FindingsView([listed(f) for f in findings], [t[:LISTED_ROWS] for t in targets], of_image)


def listed(f: Finding) -> dict[str, Any]:
    """``f.to_json()`` with ``files``, ``rows`` and ``evidence`` cut to the first rows the page lists."""
    cut = dataclasses.replace(f, files=f.files[:LISTED_ROWS], rows=f.rows[:LISTED_ROWS], evidence=f.evidence[:LISTED_ROWS])
    out = cut.to_json()  # not f.to_json(): that would turn every one of 100,000 rows into JSON first
    out["n_files"] = len(f.files)
    out["n_rows"] = len(f.rows)
    return out
