"""The command line on file-info scans and bad input (no loader needed)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pixel_patrol_base import __version__
from pixel_patrol_base.cli import app
from pixel_patrol_base.report import read_report

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args))
    return res.exit_code, res.output


def test_version_and_plugins() -> None:
    code, out = run("--version")
    assert code == 0 and out.strip() == f"pixel-patrol {__version__}"
    code, out = run("list-plugins")
    assert code == 0 and "raster-basic" in out and "pixel-patrol-base" in out


def test_file_info_scan(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    code, text = run("process", str(tree), "-o", str(out), "-p", "control", "-p", str(tree / "treated"), "--name", "exp", "--description", "d", "--flavor", "f")
    assert code == 0, text
    table, meta = read_report(out)
    rows = table.to_pylist()
    assert [r["file_name"] for r in rows] == ["a.tif", "b.PNG", "c.ome.tif", "notes.txt"]
    assert [r["path"] for r in rows] == ["control", "control", "treated", "treated"]
    assert [r["file_extension"] for r in rows] == ["tif", "png", "ome.tif", "txt"]
    assert [r["file_size"] for r in rows] == [10, 20, 30, 40]
    assert rows[0]["size_readable"] == "10 B" and rows[0]["obs_level"] == 0
    assert rows[0]["imported_path"] == str(tree / "control" / "a.tif")
    assert rows[0]["modification_date"].tzinfo is not None
    assert all(r["dim_z"] is None and r["child_id"] is None for r in rows)
    assert (meta.name, meta.description, meta.flavor) == ("exp", "d", "f")
    assert meta.paths == ["control", "treated"] and meta.base_dir == str(tree)
    assert meta.processing_stats["files"] == 4 and meta.processing_stats["rows"] == 4


def test_extension_filter_and_row_groups(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    code, _ = run("process", str(tree), "-o", str(out), "-e", ".TIF", "--parquet-row-group-size", "2", "--rows-per-part", "1")
    assert code == 0
    md = pq.ParquetFile(out).metadata
    assert [md.row_group(i).num_rows for i in range(md.num_row_groups)] == [2, 1]
    names = pq.read_table(out, columns=["file_name"]).column(0).to_pylist()
    assert names == ["a.tif", "top.tif", "c.ome.tif"]  # -e tif also selects OME-TIFFs


def test_omit_base_dir(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    code, _ = run("process", str(tree), "-o", str(out), "--omit-base-dir")
    assert code == 0
    assert str(tree).encode() not in out.read_bytes()
    table, meta = read_report(out)
    assert meta.base_dir is None
    assert table.column("imported_path").to_pylist()[0] == "control/a.tif"


def test_empty_folder_gives_empty_report(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    out = tmp_path / "r.parquet"
    code, text = run("process", str(tmp_path / "empty"), "-o", str(out))
    assert code == 0 and "no files found" in text
    table, _ = read_report(out)
    assert table.num_rows == 0 and "file_name" in table.column_names


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["missing"], "does not exist"),
        (["file"], "is a file"),
        (["base", "-p", "/elsewhere"], "does not exist"),
        (["base", "-p", "outside"], "is outside the base directory"),
        (["base", "-p", "nope"], "does not exist"),
        (["base", "-o", "nodir/r.parquet"], "output folder"),
        (["base", "-l", "nosuch"], "unknown loader 'nosuch'; available:"),
        (["base", "-l", "npy-contract", "--processors-include", "nosuch"], "unknown processor 'nosuch'"),
        (["base", "--slice-size", "Q=1"], "unknown axis 'Q'"),
        (["base", "--slice-size", "Z=0"], "Z=0 is invalid"),
        (["base", "--slice-size", "Z=x"], "not an integer"),
        (["base", "--mb-per-task", "0"], "--mb-per-task must be > 0"),
        (["base", "--max-images-per-task", "0"], "--max-images-per-task must be a positive integer"),
        (["base", "--rows-per-part", "-1"], "--rows-per-part"),
        (["base", "--max-workers", "0"], "--max-workers"),
    ],
)
def test_bad_input_exit_2_nothing_written(
    tmp_path: Path, args: list[str], fragment: str, acme: Path
) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "a.tif").write_bytes(b"x")
    (tmp_path / "outside").mkdir()
    (tmp_path / "file").write_text("x")
    where = {"missing": tmp_path / "missing", "file": tmp_path / "file", "base": tmp_path / "base"}
    argv = ["process", str(where[args[0]]), *args[1:]]
    if "-o" not in argv:
        argv += ["-o", str(tmp_path / "r.parquet")]
    else:
        argv[argv.index("-o") + 1] = str(tmp_path / argv[argv.index("-o") + 1])
    if "-p" in argv and argv[argv.index("-p") + 1] == "outside":
        argv[argv.index("-p") + 1] = str(tmp_path / "outside")
    code, text = run(*argv)
    assert code == 2, text
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("pixel-patrol: error:") and fragment in lines[0]
    assert not (tmp_path / "r.parquet").exists()


def test_nested_paths_refused(tree: Path, tmp_path: Path) -> None:
    code, text = run("process", str(tree), "-o", str(tmp_path / "r.parquet"), "-p", "control", "-p", "control/sub")
    assert code == 2 and "lies inside" in text


def test_log_file(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    code, _ = run("process", str(tree), "-o", str(out), "--log-file")
    assert code == 0
    text = (tmp_path / "r.log").read_text()
    assert "DEBUG" in text or "INFO" in text
    assert "debug log" in text
