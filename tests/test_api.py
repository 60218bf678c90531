"""The Python API end to end: project, paths, processing, load; external Dask client."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from pixel_patrol_base import api
from pixel_patrol_base.errors import SettingsError


def test_api_scan_matches_numpy(small_set: Path, tmp_path: Path) -> None:
    project = api.create_project("exp", small_set, loader="tifffile", output_path=tmp_path / "r.parquet")
    project = api.add_paths(project, ["drug", "ctrl"])
    calls: list[tuple[int, int, bool]] = []
    api.process_files(project, lambda d, f, fin: calls.append((d, f, fin)), max_workers=1, processors_include=["raster-basic", "raster-histogram"])
    table, meta = api.load(project.output_path)
    rows = table.to_pylist()
    tifs = [r for r in rows if r["obs_level"] == 0]
    assert [(r["path"], r["file_name"]) for r in tifs] == [(c, f"t{i}.tif") for c in ("ctrl", "drug") for i in range(3)]
    for r in tifs:
        px = tifffile.imread(r["imported_path"])
        assert r["min_intensity"] == px.min() and r["max_intensity"] == px.max()
        assert r["mean_intensity"] == pytest.approx(px.mean(), rel=1e-12)
        assert r["std_intensity"] == pytest.approx(px.std(), rel=1e-9)
        assert r["Z_size"] == 3 and r["Y_size"] == 16 and r["X_size"] == 24
        assert sum(r["histogram_counts"]) == px.size
    z_rows = [r for r in rows if r["obs_level"] == 1 and r["file_name"] == "t0.tif" and r["path"] == "ctrl"]
    px = tifffile.imread(small_set / "ctrl" / "t0.tif")
    assert [r["dim_z"] for r in z_rows] == [0, 1, 2]
    assert [r["mean_intensity"] for r in z_rows] == pytest.approx(px.mean(axis=(1, 2)).tolist())
    assert meta.loader == "tifffile" and meta.processors == ["raster-basic", "raster-histogram"]
    assert meta.paths == ["ctrl", "drug"]
    assert calls[-1][0] == 6 and calls[-1][2] is True


def test_external_client_is_used(small_set: Path, tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    project = api.create_project("exp", small_set, loader="tifffile", output_path=tmp_path / "r.parquet")
    with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster, Client(cluster):
        api.process_files(project, processors_include=["raster-basic"], max_images_per_task=2)
    table, meta = api.load(project.output_path)
    assert meta.processing_stats["executor"] == "active client"
    assert meta.processing_stats["tasks"] == {"batch": 3}
    local = api.process_files(
        api.create_project("exp", small_set, loader="tifffile", output_path=tmp_path / "l.parquet"),
        max_workers=1, processors_include=["raster-basic"],
    )
    other, _ = api.load(local.output_path)
    assert table.drop_columns(["modification_date"]).equals(other.drop_columns(["modification_date"]))


def test_png_with_bioio_like_colours(tmp_path: Path) -> None:
    base = tmp_path / "d"
    base.mkdir()
    rgb = np.zeros((8, 10, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 10, 20, 30
    Image.fromarray(rgb).save(base / "c.png")
    pytest.importorskip("pixel_patrol_loader_bio")
    project = api.create_project("c", base, loader="bioio", output_path=tmp_path / "r.parquet")
    api.process_files(project, max_workers=1, processors_include=["raster-basic"])
    rows = api.load(project.output_path)[0].to_pylist()
    assert [r["dim_s"] for r in rows] == [None, 0, 1, 2]
    assert [r["mean_intensity"] for r in rows] == [20.0, 10.0, 20.0, 30.0]


def test_bad_project_values(tmp_path: Path) -> None:
    with pytest.raises(SettingsError):
        api.create_project(" ", tmp_path)
    with pytest.raises(SettingsError):
        api.create_project("x", tmp_path / "missing")
    project = api.create_project("x", tmp_path, output_path=tmp_path / "r.parquet")
    with pytest.raises(SettingsError):
        api.add_paths(project, "nope")
    with pytest.raises(SettingsError):
        api.process_files(project, slice_size={"Z": 0})


def test_cluster_workers_write_parts_where_they_see_the_folder(small_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers of a Dask cluster that see the parts folder (it holds the run's token) write
    their rows to parts themselves; the report is the same as a local run's."""
    from distributed import Client, LocalCluster

    from pixel_patrol_base import parts

    stored: list[int] = []
    store = parts.store_table
    monkeypatch.setattr(parts, "STORE_MIN_BYTES", 0)
    monkeypatch.setattr(parts, "store_table", lambda table, folder, **kw: stored.append(table.num_rows) or store(table, folder, **kw))
    project = api.create_project("exp", small_set, loader="tifffile", output_path=tmp_path / "r.parquet")
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, Client(cluster):
        api.process_files(project, processors_include=["raster-basic"], max_images_per_task=2)
    table, _ = api.load(project.output_path)
    assert len(stored) == 3 and sum(stored) == table.num_rows
    local = api.process_files(
        api.create_project("exp", small_set, loader="tifffile", output_path=tmp_path / "l.parquet"),
        max_workers=1, processors_include=["raster-basic"],
    )
    other, _ = api.load(local.output_path)
    assert table.drop_columns(["modification_date"]).equals(other.drop_columns(["modification_date"]))


def test_a_worker_writes_parts_only_into_the_folder_of_its_run(tmp_path: Path) -> None:
    from pixel_patrol_base import parts

    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / parts.TOKEN_FILE).write_text("abc")
    assert parts.reachable(str(folder), "abc")
    assert not parts.reachable(str(folder), "other run")
    assert not parts.reachable(str(tmp_path / "elsewhere"), "abc")
    assert parts.reachable(str(tmp_path / "elsewhere"), None)  # a local worker: no check
