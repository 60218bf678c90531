"""``--incremental`` after a settings change gives exactly the report of a fresh run.

Rows of unchanged files are reused only where they are what a fresh run would write: labels
that depend on ``-p`` and the base folder are recomputed, every other setting that shapes rows
forces those rows to be computed again.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from pixel_patrol_base import api
from pixel_patrol_base.pipeline import RunSummary

RUN_SPECIFIC = ("created_at", "processing_stats", "settings")
"""Footer fields that describe the run rather than the data (documented as such)."""


def scan(base: Path, out: Path, paths: tuple[str, ...] = (), loader: str | None = "bioio", **kw: Any) -> tuple[pa.Table, Any]:
    project = api.create_project("inc", base, loader=loader, output_path=out)
    if paths:
        project = api.add_paths(project, list(paths))
    kw.setdefault("processors_include", ["raster-basic"])
    api.process_files(project, max_workers=1, **kw)
    return api.load(out)


def same_as_fresh(tmp_path: Path, first: dict[str, Any], second: dict[str, Any]) -> RunSummary:
    out = tmp_path / "r.parquet"
    scan(**first, out=out)
    table, meta = scan(**second, out=out, incremental=True)
    summary = api.last_summary()
    fresh_table, fresh_meta = scan(**second, out=tmp_path / "fresh.parquet")
    assert table.schema == fresh_table.schema
    assert table.to_pylist() == fresh_table.to_pylist()
    for name in meta.__dataclass_fields__:
        if name not in RUN_SPECIFIC:
            assert getattr(meta, name) == getattr(fresh_meta, name), name
    assert summary is not None
    return summary


@pytest.fixture
def data(small_set: Path) -> Path:
    return small_set


CASES = {
    "add -p": ({}, {"paths": ("ctrl",)}),
    "drop -p": ({"paths": ("ctrl",)}, {}),
    "add a second -p": ({"paths": ("ctrl",)}, {"paths": ("ctrl", "drug")}),
    "switch -p": ({"paths": ("ctrl", "drug")}, {"paths": ("drug",)}),
    "-e narrows": ({}, {"file_extensions": ["tif"]}),
    "-e widens": ({"file_extensions": ["tif"]}, {}),
    "omit-base-dir on": ({}, {"omit_base_dir": True}),
    "omit-base-dir off": ({"omit_base_dir": True}, {}),
    "slice size": ({}, {"slice_size": {"Z": 2}}),
    "processors": ({}, {"processors_include": ["raster-basic", "raster-histogram"]}),
    "loader": ({"loader": "tifffile"}, {"loader": "bioio"}),
    "budget (shapes nothing)": ({}, {"mb_per_task": 0.001}),
}


@pytest.mark.parametrize(("first", "second"), list(CASES.values()), ids=list(CASES))
def test_incremental_after_a_change_equals_a_fresh_run(data: Path, tmp_path: Path, first: dict[str, Any], second: dict[str, Any]) -> None:
    same_as_fresh(tmp_path, {"base": data, **first}, {"base": data, **second})


def test_labels_follow_p_when_nothing_else_changed(tmp_path: Path, small_set: Path) -> None:
    """The base holds one condition folder: with and without ``-p`` the same files are found."""
    base = tmp_path / "one"
    shutil.copytree(small_set / "ctrl", base / "ctrl")
    summary = same_as_fresh(tmp_path, {"base": base}, {"base": base, "paths": ("ctrl",)})
    assert summary.incremental == {"reused": 6, "new": 0, "changed": 0, "removed": 0}
    assert summary.stats.images == 0  # relabelled, not recomputed
    table, meta = api.load(tmp_path / "r.parquet")
    assert set(table.column("path").to_pylist()) == {"ctrl"} and meta.paths == ["ctrl"]
    (tmp_path / "back").mkdir()
    summary = same_as_fresh(tmp_path / "back", {"base": base, "paths": ("ctrl",)}, {"base": base})
    assert summary.incremental == {"reused": 6, "new": 0, "changed": 0, "removed": 0}
    table, meta = api.load(tmp_path / "back" / "r.parquet")
    assert set(table.column("path").to_pylist()) == {"."} and meta.paths == []


def test_base_folder_change_relabels(tmp_path: Path, small_set: Path) -> None:
    top = tmp_path / "top"
    shutil.copytree(small_set, top / "exp")
    summary = same_as_fresh(tmp_path, {"base": top, "paths": ("exp/ctrl",)}, {"base": top / "exp", "paths": ("ctrl",)})
    assert summary.stats.images == 0 and summary.incremental is not None
    assert summary.incremental["reused"] == 6


def test_unchanged_files_are_reused_after_p_change(data: Path, tmp_path: Path) -> None:
    summary = same_as_fresh(tmp_path, {"base": data}, {"base": data, "paths": ("drug",)})
    assert summary.incremental == {"reused": 6, "new": 0, "changed": 0, "removed": 6}
    assert summary.stats.images == 0


def test_extension_change_reuses_the_files_it_keeps(data: Path, tmp_path: Path) -> None:
    summary = same_as_fresh(tmp_path, {"base": data}, {"base": data, "file_extensions": ["tif"]})
    assert summary.incremental == {"reused": 6, "new": 0, "changed": 0, "removed": 6}
    assert summary.stats.images == 0


def test_row_shaping_change_reprocesses_everything(data: Path, tmp_path: Path) -> None:
    summary = same_as_fresh(tmp_path, {"base": data}, {"base": data, "slice_size": {"Z": 2}})
    assert summary.incremental is None and summary.stats.images == 12


def test_layout_and_name_changes_rewrite_an_unchanged_report(data: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "r.parquet"
    scan(data, out)
    scan(data, out, incremental=True, parquet_row_group_size=5)
    md = pq.ParquetFile(out).metadata
    assert md.row_group(0).num_rows == 5 and md.num_row_groups > 1
    project = api.create_project("renamed", data, loader="bioio", output_path=out)
    api.process_files(project, max_workers=1, processors_include=["raster-basic"], incremental=True, description="d2")
    _, meta = api.load(out)
    assert (meta.name, meta.description) == ("renamed", "d2")
    summary = api.last_summary()
    assert summary is not None and summary.stats.images == 0
