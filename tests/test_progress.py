"""Progress moves per file, in-process and with worker processes; the summary's wording."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
import pytest
from npy_loaders import NpyLoader

from pixel_patrol_base import api, plugins
from pixel_patrol_base.cli_run import summary_lines


class SlowNpyLoader(NpyLoader):
    """Takes 40 ms per file, so that a task of several files lasts long enough to be watched."""

    NAME: ClassVar[str] = "npy-slow"

    def open(self, path: str) -> Any:
        time.sleep(0.04)
        return super().open(path)


@pytest.fixture
def slow(tmp_path: Path) -> Iterator[Path]:
    plugins.register(plugins.LOADER_GROUP, SlowNpyLoader)
    base = tmp_path / "d"
    base.mkdir()
    for i in range(40):
        np.save(base / f"f{i:02d}.npy", np.full((4, 5), i, dtype=np.uint16))
    yield base
    plugins.unregister(plugins.LOADER_GROUP, SlowNpyLoader.NAME)


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_counts_files_inside_a_task(slow: Path, tmp_path: Path, workers: int) -> None:
    calls: list[tuple[int, int, bool]] = []
    project = api.create_project("p", slow, loader="npy-slow", output_path=tmp_path / "r.parquet")
    api.process_files(project, lambda d, f, fin: calls.append((d, f, fin)), max_workers=workers,
                      max_images_per_task=40, processors_include=["raster-basic"])
    done = [d for d, _f, _fin in calls]
    assert done == sorted(done) and done[-1] == 40
    assert all(f == 40 and fin for _d, f, fin in calls[1:])  # discovery (40 files) is read ahead
    # values strictly between task boundaries: the count moved inside a running task
    boundaries = {0, 40} if workers == 1 else {0, 1, 5, 13, 29, 40}
    assert set(done) - boundaries, done
    if workers == 1:
        assert set(range(1, 41)) <= set(done)  # in-process: every single file


def _summary(**kw: Any) -> SimpleNamespace:
    base: dict[str, Any] = dict(files=3, rows=3, errors=0, conditions={".": 3}, failed_by_condition={},
                                failures=[], resumed=0, incremental=None, accounting={})
    base.update(kw)
    return SimpleNamespace(**base)


def test_summary_wording() -> None:
    out = Path("r.parquet")
    assert summary_lines(_summary(files=1, rows=1, errors=1, failures=[("a.tif", "header", "bad")]), 1.0, out, None) == [
        "1 file, 1 row, 1 error in 1.0 s -> r.parquet", "failed (1):", "  a.tif: bad",
    ]
    lines = summary_lines(
        _summary(files=2_500, rows=2_600, errors=0, resumed=1, conditions={"a": 1_000, "b": 1_500},
                 accounting={"not_read": {"loader": "tifffile", "files": 1_012, "by_extension": {"txt": 1_010, "czi": 2},
                                          "readers": {"czi": "bioio"}}},
                 incremental={"reused": 5, "new": 1, "changed": 0, "removed": 2}),
        2.04, out, None,
    )
    assert lines == [
        "2,500 files, 2,600 rows, 0 errors in 2.0 s -> r.parquet",
        "conditions: a: 1,000 files; b: 1,500 files",
        "not read by the tifffile loader: 1,012 files (1,010 .txt, 2 .czi); --loader bioio reads .czi;"
        " listed in the report footer (processing_stats.not_read)",
        "1 file resumed from the interrupted run",
        "incremental: 5 reused, 1 new, 0 changed, 2 removed",
    ]
