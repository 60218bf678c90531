"""The footer and the fingerprint name the code behind every selected plugin; upgrading it
means the rows are computed again by ``--incremental``, upgrading anything else does not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from plugin_env import npy_folder

from pixel_patrol_base import api, plugins, versions


def _scan(data: Path, out: Path, *, incremental: bool = False) -> api.RunSummary:
    project = api.create_project("p", data, loader="npy-contract", output_path=out)
    api.process_files(project, processors_include=["acme-mean", "raster-basic"], incremental=incremental, max_workers=1)
    summary = api.last_summary()
    assert summary is not None
    return summary


def _upgrade(site: Path, version: str) -> None:
    """Replace acme-plugins 1.0 by ``version``, as an installer does (new dist-info folder)."""
    old = next(site.glob("acme_plugins-*.dist-info"))
    new = site / f"acme_plugins-{version}.dist-info"
    shutil.move(old, new)
    meta = (new / "METADATA").read_text().replace("Version: 1.0", f"Version: {version}")
    (new / "METADATA").write_text(meta)
    plugins.refresh()


def test_footer_records_the_distribution_and_libraries_of_each_plugin(acme: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    _scan(npy_folder(tmp_path / "d"), out)
    _, meta = api.load(out)
    acme_rec = meta.plugins["processors"]["acme-mean"]
    assert acme_rec["distribution"] == "acme-plugins" and acme_rec["version"] == "1.0"
    assert acme_rec["target"] == "plugin_fixtures:MeanProc"
    # no LIBRARIES declared: the distribution's direct requirements (extras left out)
    assert set(acme_rec["libraries"]) == {"numpy", "pyarrow"}
    assert meta.plugins["loader"]["npy-contract"]["libraries"] == {"numpy": versions.installed_version("numpy")}
    basic = meta.plugins["processors"]["raster-basic"]
    assert basic["distribution"] == "pixel-patrol-base" and set(basic["libraries"]) == {"numpy"}
    assert meta.plugins["core"] == {"pixel-patrol-base": versions.installed_version("pixel-patrol-base")}
    assert meta.package_versions["acme-plugins"] == "1.0"
    assert {"numpy", "pyarrow", "pixel-patrol-base"} <= set(meta.package_versions)


def test_upgrading_a_third_party_processor_forces_reprocessing(acme: Path, tmp_path: Path) -> None:
    data, out = npy_folder(tmp_path / "d"), tmp_path / "r.parquet"
    _scan(data, out)
    assert _scan(data, out, incremental=True).reused == 3  # nothing changed: all rows reused
    _upgrade(acme, "1.1")
    summary = _scan(data, out, incremental=True)
    assert summary.reused == 0 and summary.stats.files == 3
    _, meta = api.load(out)
    assert meta.plugins["processors"]["acme-mean"]["version"] == "1.1"
    assert _scan(data, out, incremental=True).reused == 3


def test_upgrading_a_library_a_plugin_depends_on_forces_reprocessing(
    acme: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, out = npy_folder(tmp_path / "d"), tmp_path / "r.parquet"
    _scan(data, out)
    real = versions.installed_version
    monkeypatch.setattr(versions, "installed_version", lambda d: "99.0" if d == "pyarrow" else real(d))
    assert _scan(data, out, incremental=True).reused == 0  # acme-mean depends on pyarrow
    _, meta = api.load(out)
    assert meta.plugins["processors"]["acme-mean"]["libraries"]["pyarrow"] == "99.0"


def test_upgrading_what_no_selected_plugin_depends_on_reuses_the_rows(
    acme: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, out = npy_folder(tmp_path / "d"), tmp_path / "r.parquet"
    _scan(data, out)
    real = versions.installed_version
    unrelated = {"pixel-patrol-slurm", "dask", "distributed", "rich", "typer", "pixel-patrol-image"}
    monkeypatch.setattr(versions, "installed_version", lambda d: "99.0" if d in unrelated else real(d))
    assert _scan(data, out, incremental=True).reused == 3


def test_direct_requirements_skip_extras_and_keep_markers(acme: Path) -> None:
    assert versions.direct_requirements("acme-plugins") == ("numpy", "pyarrow")
    assert versions.direct_requirements("no-such-distribution") == ()
    assert versions.canonical("Pillow_SIMD.x") == "pillow-simd-x"
