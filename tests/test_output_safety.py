"""With a loader, ``-o`` is refused where the scan would read it (an image, a dataset folder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile
import zarr
from typer.testing import CliRunner

from pixel_patrol_base.cli import app
from pixel_patrol_base.report import read_report

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["process", *args])
    return res.exit_code, res.output


def test_output_that_the_loader_would_read_is_refused(tmp_path: Path) -> None:
    base = tmp_path / "d"
    (base / "sub").mkdir(parents=True)
    tifffile.imwrite(base / "sub" / "a.tif", np.zeros((4, 4), np.uint8))
    target = base / "sub" / "b.tif"
    code, text = run(str(base), "-o", str(target), "-l", "tifffile", "--allow-any-extension")
    assert code == 2 and "lies inside the scanned folder" in text
    assert not target.exists()
    store = base / "x.zarr"
    zarr.create_array(str(store), shape=(4, 4), dtype="uint8")
    inside = store / "r.parquet"
    code, text = run(str(base), "-o", str(inside), "-l", "zarr")
    assert code == 2 and "lies inside the scanned folder" in text
    assert not inside.exists()


def test_report_beside_images_is_allowed_when_the_loader_does_not_read_it(tmp_path: Path) -> None:
    base = tmp_path / "d"
    base.mkdir()
    tifffile.imwrite(base / "a.tif", np.zeros((4, 4), np.uint8))
    out = base / "r.parquet"
    code, text = run(str(base), "-o", str(out), "-l", "tifffile")
    assert code == 0, text
    table, _ = read_report(out)
    assert table.column("file_name").to_pylist() == ["a.tif"]
