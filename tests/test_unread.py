"""Files the loader does not read are counted, listed and explained, never silently dropped."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import tifffile
import zarr
from PIL import Image
from typer.testing import CliRunner

from pixel_patrol_base import api, plugins
from pixel_patrol_base.accounting import LIST_CAP
from pixel_patrol_base.cli import app
from pixel_patrol_base.formats import install_hint

BARE_PIP = re.compile(r"pip install [A-Za-z][\w.-]*(?:[\s;,)]|$)")
"""An install command naming a bare package (the registry's, not this repository's)."""


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["process", *args])
    return res.exit_code, res.output


def stats(out: Path) -> dict:
    return api.load(out)[1].processing_stats


def mixed(base: Path) -> Path:
    (base / "sub").mkdir(parents=True)
    tifffile.imwrite(base / "a.tif", np.arange(16, dtype=np.uint8).reshape(4, 4))
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(base / "b.png")
    (base / "c.nd2").write_bytes(b"not really nd2")
    (base / "sub" / "notes.txt").write_text("hi")
    (base / "sub" / "README").write_text("hi")
    zarr.create_array(str(base / "s.zarr"), shape=(4, 4), dtype="uint8")
    return base


def test_files_the_loader_skips_are_counted_and_listed(tmp_path: Path) -> None:
    base = mixed(tmp_path / "d")
    out = tmp_path / "r.parquet"
    code, text = run(str(base), "-o", str(out), "-l", "tifffile", "--log-file")
    assert code == 0, text
    assert pq.read_table(out).column("file_name").to_pylist() == ["a.tif"]
    nr = stats(out)["not_read"]
    assert nr["loader"] == "tifffile" and nr["files"] == 5
    assert nr["by_extension"] == {"": 1, "nd2": 1, "png": 1, "txt": 1, "zarr": 1}
    assert nr["readers"] == {"nd2": "bioio", "png": "bioio", "zarr": "zarr"}
    assert nr["listed"] == [str(base / n) for n in ("b.png", "c.nd2", "s.zarr", "sub/README", "sub/notes.txt")]
    lines = [ln for ln in text.splitlines() if "not read by the tifffile loader" in ln]
    assert lines == [
        "pixel-patrol: not read by the tifffile loader: 5 files (1 (no extension), 1 .nd2, 1 .png,"
        " 1 .txt, 1 .zarr); --loader bioio reads .nd2, .png; --loader zarr reads .zarr;"
        " listed in the report footer (processing_stats.not_read)"
    ]
    log = (tmp_path / "r.log").read_text()
    for path in nr["listed"]:
        assert f"not read by the tifffile loader: {path}" in log
    assert stats(out)["file_facts_only"] is None


def test_listing_is_capped_but_counts_are_complete(tmp_path: Path) -> None:
    base = tmp_path / "d"
    base.mkdir()
    tifffile.imwrite(base / "a.tif", np.zeros((4, 4), np.uint8))
    for i in range(LIST_CAP + 5):
        (base / f"n{i:03d}.txt").write_text("x")
    project = api.create_project("u", base, loader="tifffile", output_path=tmp_path / "r.parquet")
    api.process_files(project, max_workers=1, processors_include=["raster-basic"])
    nr = stats(tmp_path / "r.parquet")["not_read"]
    assert nr["files"] == LIST_CAP + 5 and nr["by_extension"] == {"txt": LIST_CAP + 5}
    assert nr["listed"] == [str(base / f"n{i:03d}.txt") for i in range(LIST_CAP)]


def test_extension_selection_decides_what_is_accounted(tmp_path: Path) -> None:
    base = mixed(tmp_path / "d")
    out = tmp_path / "r.parquet"
    code, text = run(str(base), "-o", str(out), "-l", "tifffile", "-e", "nd2", "-e", "tif")
    assert code == 0, text
    assert stats(out)["not_read"]["by_extension"] == {"nd2": 1}


def test_omit_base_dir_lists_relative_paths(tmp_path: Path) -> None:
    base = mixed(tmp_path / "d")
    out = tmp_path / "r.parquet"
    code, text = run(str(base), "-o", str(out), "-l", "tifffile", "--omit-base-dir")
    assert code == 0, text
    assert stats(out)["not_read"]["listed"] == ["b.png", "c.nd2", "s.zarr", "sub/README", "sub/notes.txt"]


@pytest.mark.parametrize("loader", ["bioio", "tifffile"])
def test_missing_reader_plugin_gives_an_error_row_saying_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loader: str) -> None:
    monkeypatch.setitem(sys.modules, "bioio_czi", None)  # as if bioio-czi were not installed
    base = tmp_path / "d"
    base.mkdir()
    tifffile.imwrite(base / "a.tif", np.zeros((4, 4), np.uint8))
    (base / "scan.czi").write_bytes(b"ZISRAWFILE" + bytes(100))
    out = tmp_path / "r.parquet"
    code, text = run(str(base), "-o", str(out), "-l", loader, "--max-workers", "1")
    assert code == 0, text
    rows = {r["file_name"]: r for r in pq.read_table(out).to_pylist()}
    assert rows["a.tif"]["error"] is None
    czi = rows["scan.czi"]
    assert czi["error_stage"] == "header" and czi["file_size"] == 110
    assert czi["error"] == (
        "the bioio loader needs bioio-czi to read .czi files and it is not installed; "
        + install_hint("pixel-patrol-loader-bio", brings="bioio-czi")
    )
    assert "install pixel-patrol-loader-bio (it brings bioio-czi) from the Pixel Patrol repository" in czi["error"]
    assert not BARE_PIP.search(czi["error"])
    s = stats(out)
    assert s["errors"] == 1 and s["files"] == 2
    assert s["not_read"] is None


def test_format_no_installed_loader_declares(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from npy_loaders import NpyLoader

    plugins.register(plugins.LOADER_GROUP, NpyLoader)
    real = plugins.available_ids
    only_npy = lambda group: ["npy-test"] if group == plugins.LOADER_GROUP else real(group)  # noqa: E731
    monkeypatch.setattr(plugins, "available_ids", only_npy)  # no other loader installed
    try:
        base = tmp_path / "d"
        base.mkdir()
        np.save(base / "a.npy", np.zeros((3, 3), np.uint8))
        (base / "b.nd2").write_bytes(b"x" * 7)
        (base / "c.txt").write_text("x")
        project = api.create_project("u", base, loader="npy-test", output_path=tmp_path / "r.parquet")
        api.process_files(project, max_workers=1, processors_include=["raster-basic"])
    finally:
        plugins.unregister(plugins.LOADER_GROUP, NpyLoader.NAME)
    rows = {r["file_name"]: r for r in pq.read_table(tmp_path / "r.parquet").to_pylist()}
    assert sorted(rows) == ["a.npy", "b.nd2"]
    assert rows["b.nd2"]["error"] == (
        "no installed loader reads .nd2 files (--loader bioio would); " + install_hint("pixel-patrol-loader-bio")
    )
    assert not BARE_PIP.search(rows["b.nd2"]["error"])
    nr = stats(tmp_path / "r.parquet")["not_read"]
    assert nr["by_extension"] == {"txt": 1} and nr["readers"] == {}


def test_without_loader_the_run_says_once_which_loader_reads_the_images(tmp_path: Path) -> None:
    base = mixed(tmp_path / "d")
    out = tmp_path / "r.parquet"
    code, text = run(str(base), "-o", str(out))
    assert code == 0, text
    ff = stats(out)["file_facts_only"]
    assert ff == {"image_files": 3, "by_extension": {"nd2": 1, "png": 1, "tif": 1}, "reader": "bioio"}
    hint = "pixel-patrol: no --loader: only file facts were collected for 3 image files (1 .nd2, 1 .png, 1 .tif); --loader bioio reads them"
    assert text.splitlines().count(hint) == 1 and text.count("only file facts") == 1
    assert stats(out)["not_read"] is None

    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("x")
    code, text = run(str(plain), "-o", str(tmp_path / "p.parquet"))
    assert code == 0 and "only file facts" not in text
    assert stats(tmp_path / "p.parquet")["file_facts_only"] is None


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "pty"])
def test_summary_line_through_pipe_and_terminal(tmp_path: Path, terminal: bool) -> None:
    base = mixed(tmp_path / "d")
    argv = [sys.executable, "-m", "pixel_patrol_base", "process", str(base), "-o", str(tmp_path / "r.parquet"), "-l", "tifffile", "--max-workers", "1"]
    if terminal:
        leader, follower = pty.openpty()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)
        os.close(follower)
        chunks = []
        while True:  # drain while it runs: a full terminal buffer would block the child
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        os.close(leader)
        code = proc.wait(timeout=120)
        text = b"".join(chunks).decode(errors="replace")
    else:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        code, text = res.returncode, res.stderr
    assert code == 0, text
    assert text.count("not read by the tifffile loader: 5 files") == 1


def test_incremental_rewrites_the_footer_when_unread_files_change(tmp_path: Path) -> None:
    base = tmp_path / "d"
    base.mkdir()
    tifffile.imwrite(base / "a.tif", np.zeros((4, 4), np.uint8))
    out = tmp_path / "r.parquet"
    project = api.create_project("u", base, loader="tifffile", output_path=out)
    api.process_files(project, max_workers=1, processors_include=["raster-basic"])
    assert stats(out)["not_read"] is None
    (base / "late.nd2").write_bytes(b"x")
    api.process_files(project, max_workers=1, processors_include=["raster-basic"], incremental=True)
    assert stats(out)["not_read"]["by_extension"] == {"nd2": 1}
    assert pq.read_table(out).column("file_name").to_pylist() == ["a.tif"]


def test_base_only_install_is_told_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = plugins.available_ids
    monkeypatch.setattr(plugins, "available_ids", lambda group: [] if group == plugins.LOADER_GROUP else real(group))
    base = mixed(tmp_path / "d")
    out = tmp_path / "r.parquet"
    code, text = run(str(base), "-o", str(out))
    assert code == 0, text
    assert stats(out)["file_facts_only"]["reader"] is None
    line = next(ln for ln in text.splitlines() if "only file facts" in ln)
    assert line.endswith("; " + install_hint("pixel-patrol-loader-bio"))
    assert not BARE_PIP.search(line)
