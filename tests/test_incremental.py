"""--incremental reuses unchanged files, processes new and changed ones, drops removed ones."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import tifffile

from pixel_patrol_base import api


def write(path: Path, value: int) -> None:
    tifffile.imwrite(path, np.full((2, 8, 8), value, dtype=np.uint16), metadata={"axes": "ZYX"}, photometric="minisblack")


def scan(base: Path, out: Path, **kw: object) -> tuple[list[dict], dict]:
    project = api.create_project("inc", base, loader="tifffile", output_path=out)
    api.process_files(project, max_workers=1, processors_include=["raster-basic"], **kw)  # type: ignore[arg-type]
    table, meta = api.load(out)
    return table.to_pylist(), meta.processing_stats


def test_incremental_rescan(tmp_path: Path) -> None:
    base = tmp_path / "d"
    base.mkdir()
    for i in range(4):
        write(base / f"f{i}.tif", i)
    out = tmp_path / "r.parquet"
    first, stats = scan(base, out)
    assert stats["incremental"] is None
    before = out.read_bytes()
    again, stats = scan(base, out, incremental=True)
    summary = api.last_summary()
    assert summary is not None and summary.stats.images == 0  # nothing was decoded
    assert summary.incremental == {"reused": 4, "new": 0, "changed": 0, "removed": 0}
    assert out.read_bytes() == before  # nothing changed: the report is kept as it is
    assert again == first

    write(base / "f1.tif", 10)
    st = os.stat(base / "f1.tif")
    os.utime(base / "f1.tif", ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    (base / "f2.tif").unlink()
    write(base / "f9.tif", 9)
    rows, stats = scan(base, out, incremental=True)
    assert stats["incremental"] == {"reused": 2, "new": 1, "changed": 1, "removed": 1}
    level0 = {r["file_name"]: r["mean_intensity"] for r in rows if r["obs_level"] == 0}
    assert level0 == {"f0.tif": 0.0, "f1.tif": 10.0, "f3.tif": 3.0, "f9.tif": 9.0}
    assert [r["file_name"] for r in rows if r["obs_level"] == 0] == ["f0.tif", "f1.tif", "f3.tif", "f9.tif"]
    full, _ = scan(base, tmp_path / "full.parquet")
    drop = {"modification_date"}
    assert [{k: v for k, v in r.items() if k not in drop} for r in rows] == [{k: v for k, v in r.items() if k not in drop} for r in full]


def test_incremental_with_other_settings_processes_everything(tmp_path: Path) -> None:
    base = tmp_path / "d"
    base.mkdir()
    write(base / "a.tif", 1)
    out = tmp_path / "r.parquet"
    scan(base, out)
    _, stats = scan(base, out, incremental=True, slice_size={"Z": 2})
    assert stats["incremental"] is None and stats["images"] == 1


def test_omit_base_dir_leaves_no_absolute_path(tmp_path: Path) -> None:
    base = tmp_path / "secret-location" / "d"
    base.mkdir(parents=True)
    write(base / "a.tif", 1)
    out = tmp_path / "r.parquet"
    scan(base, out, omit_base_dir=True)
    raw = out.read_bytes()
    assert b"secret-location" not in raw
    assert pq.read_table(out).column("imported_path").to_pylist() == ["a.tif"] * 3
    write(base / "b.tif", 2)
    _, stats = scan(base, out, omit_base_dir=True, incremental=True)
    assert stats["incremental"] == {"reused": 1, "new": 1, "changed": 0, "removed": 0}
    assert b"secret-location" not in out.read_bytes()
