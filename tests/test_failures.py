"""Nothing lost: a file that fails, or kills its worker, becomes one error row."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from npy_loaders import CrashingNpyLoader, NpyLoader

from pixel_patrol_base import api, plugins


@pytest.fixture(autouse=True)
def npy_plugins() -> Iterator[None]:
    plugins.register(plugins.LOADER_GROUP, NpyLoader)
    plugins.register(plugins.LOADER_GROUP, CrashingNpyLoader)
    yield
    plugins.unregister(plugins.LOADER_GROUP, NpyLoader.NAME)
    plugins.unregister(plugins.LOADER_GROUP, CrashingNpyLoader.NAME)


def make(base: Path, names: list[str]) -> None:
    base.mkdir()
    for i, n in enumerate(names):
        if n.startswith("bad"):
            (base / n).write_bytes(b"not numpy at all")
        else:
            np.save(base / n, np.full((4, 5), i, dtype=np.uint16))


def scan(base: Path, out: Path, loader: str, **kw: object) -> list[dict]:
    project = api.create_project("f", base, loader=loader, output_path=out)
    api.process_files(project, processors_include=["raster-basic"], **kw)  # type: ignore[arg-type]
    return api.load(out)[0].to_pylist()


def test_corrupt_file_does_not_drop_its_batch(tmp_path: Path) -> None:
    make(tmp_path / "d", ["a.npy", "bad.npy", "c.npy", "d.npy"])
    rows = scan(tmp_path / "d", tmp_path / "r.parquet", "npy-test", max_workers=1)
    assert [r["file_name"] for r in rows] == ["a.npy", "bad.npy", "c.npy", "d.npy"]
    bad = rows[1]
    assert bad["error_stage"] == "header" and "not a .npy file" in bad["error"]
    assert bad["reader"] == "numpy" and bad["mean_intensity"] is None
    assert [r["mean_intensity"] for r in rows if r["error"] is None] == [0.0, 2.0, 3.0]
    summary = api.last_summary()
    assert summary is not None and summary.errors == 1 and summary.files == 4


def test_worker_death_is_isolated_to_its_file(tmp_path: Path) -> None:
    make(tmp_path / "d", ["a.npy", "b.npy", "crash.npy", "d.npy", "e.npy"])
    rows = scan(tmp_path / "d", tmp_path / "r.parquet", "npy-crash", max_workers=2, max_images_per_task=5)
    assert [r["file_name"] for r in rows] == ["a.npy", "b.npy", "crash.npy", "d.npy", "e.npy"]
    crashed = rows[2]
    assert crashed["error_stage"] == "process" and "worker failed" in crashed["error"]
    assert [r["mean_intensity"] for r in rows if r["error"] is None] == [0.0, 1.0, 3.0, 4.0]
    summary = api.last_summary()
    assert summary is not None and summary.errors == 1 and summary.files == 5


class HangingNpyLoader(NpyLoader):
    """Sleeps forever on files named ``hang*``: a reader stuck on a dead network share."""

    NAME = "npy-hang"

    def open(self, path: str):  # type: ignore[no-untyped-def]
        import time

        if "hang" in os.path.basename(path):
            time.sleep(3600)
        return super().open(path)


def test_hanging_file_is_bounded_by_task_timeout(tmp_path: Path) -> None:
    plugins.register(plugins.LOADER_GROUP, HangingNpyLoader)
    try:
        make(tmp_path / "d", ["a.npy", "hang.npy", "c.npy"])
        rows = scan(tmp_path / "d", tmp_path / "r.parquet", "npy-hang", max_workers=2, max_images_per_task=1, task_timeout=3)
    finally:
        plugins.unregister(plugins.LOADER_GROUP, "npy-hang")
    assert [r["file_name"] for r in rows] == ["a.npy", "c.npy", "hang.npy"]
    assert rows[2]["error_stage"] == "process" and "--task-timeout" in rows[2]["error"]
    assert [r["mean_intensity"] for r in rows if r["error"] is None] == [0.0, 2.0]
