"""``--omit-base-dir``: no text in the report or the log quotes the absolute base folder."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from npy_loaders import FailingNpyLoader
from typer.testing import CliRunner

from pixel_patrol_base import plugins
from pixel_patrol_base.cli import app

MARKER = "secret-place"


@pytest.fixture(autouse=True)
def failing_loader() -> Iterator[None]:
    plugins.register(plugins.LOADER_GROUP, FailingNpyLoader)
    yield
    plugins.unregister(plugins.LOADER_GROUP, FailingNpyLoader.NAME)


def texts(value: Any) -> Iterator[str]:
    """Every text inside a (nested) report value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes):
        yield value.decode("utf-8", "replace")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from texts(k)
            yield from texts(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from texts(v)


def dataset(tmp_path: Path) -> Path:
    base = tmp_path / MARKER / "d"
    (base / "sub").mkdir(parents=True)
    for name in ("ok.npy", "perm.npy", "sub/gone.npy", "boom.npy", "bad.npy"):
        np.save(base / name, np.arange(12, dtype=np.uint16).reshape(3, 4))
    (base / "sub" / "dangling.npy").symlink_to(base / "nowhere.npy")
    return base


def leaks(text: str, base: Path) -> bool:
    return MARKER in text or str(base) in text


def test_no_text_in_report_or_log_quotes_the_base(tmp_path: Path) -> None:
    base = dataset(tmp_path)
    out = base / ".reports" / "r.parquet"  # inside the base, hidden: the log quotes it too
    out.parent.mkdir()
    res = CliRunner().invoke(app, ["process", str(base), "-o", str(out), "-l", "npy-fail", "--omit-base-dir", "--log-file", "--processors-include", "raster-basic", "--max-workers", "1", "--incremental"])
    assert res.exit_code == 0, res.output

    table = pq.read_table(out)
    rows = table.to_pylist()
    errors = {r["imported_path"]: (r["error_stage"], r["error"]) for r in rows}
    assert errors["ok.npy"] == (None, None)
    assert errors["perm.npy"] == ("header", "PermissionError: [Errno 13] Permission denied: 'perm.npy'")
    assert errors["sub/gone.npy"] == ("header", "FileNotFoundError: [Errno 2] No such file or directory: 'sub/gone.npy.sidecar'")
    assert errors["boom.npy"] == ("header", "RuntimeError: decoder crashed on boom.npy (offset 12)")
    assert errors["bad.npy"] == ("header", "cannot parse header of 'bad.npy'")
    assert errors["sub/dangling.npy"][0] == "discover"
    for value in texts(rows):
        assert not leaks(value, base), value
    schema = pq.read_schema(out)
    for value in texts({k: v for k, v in (schema.metadata or {}).items()}):
        assert not leaks(value, base), value
    for field in schema:
        for value in texts(dict(field.metadata or {})):
            assert not leaks(value, base), value
    assert MARKER.encode() not in out.read_bytes()

    log = (out.parent / "r.log").read_text()
    assert "debug log: .reports/r.log" in log
    assert not leaks(log, base), [ln for ln in log.splitlines() if leaks(ln, base)]


def test_unchanged_paths_without_omit(tmp_path: Path) -> None:
    base = dataset(tmp_path)
    out = tmp_path / "r.parquet"
    res = CliRunner().invoke(app, ["process", str(base), "-o", str(out), "-l", "npy-fail", "--processors-include", "raster-basic", "--max-workers", "1"])
    assert res.exit_code == 0, res.output
    rows = pq.read_table(out).to_pylist()
    perm = next(r for r in rows if r["file_name"] == "perm.npy")
    assert perm["error"] == f"PermissionError: [Errno 13] Permission denied: '{base / 'perm.npy'}'"
    meta = json.loads(pq.read_schema(out).metadata[b"pixel_patrol.base_dir"])
    assert meta == str(base) and os.path.isabs(meta)


def test_message_cut_inside_the_base_is_cut_before_it() -> None:
    from pixel_patrol_base.privacy import base_forms, relative_text

    forms = base_forms("/data/secret-place/d")
    assert relative_text("x " * 10 + "/data/secr…", forms) == "x " * 10 + "…"
    assert relative_text("open '/data/secret-place/d/a.tif' failed", forms) == "open 'a.tif' failed"
    assert relative_text("walk /data/secret-place/d: gone", forms) == "walk .: gone"
    assert base_forms("/") == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("raw/data/x.tif", "raw/data/x.tif"),
        ("/data2/x.tif", "/data2/x.tif"),
        ("/data/x.tif", "x.tif"),
        ("file:///data/x.zarr", "file://x.zarr"),
        ("in '/data'", "in '.'"),
        ("/data,/data/a", ".,a"),
        ("No such file: '/data//a'", "No such file: 'a'"),
    ],
    ids=["nested-relative", "sibling", "absolute", "uri", "alone", "adjacent", "double-slash"],
)
def test_only_quoted_absolute_base_paths_are_rewritten(text: str, expected: str) -> None:
    from pixel_patrol_base.privacy import base_forms, relative_text

    assert relative_text(text, base_forms("/data")) == expected


def test_relative_table_keeps_columns_without_the_base() -> None:
    import pyarrow as pa

    from pixel_patrol_base.privacy import base_forms, relative_table

    table = pa.table({
        "imported_path": ["raw/data/a.tif", "b.tif"],
        "channel_names": [["/data/c0", "x"], None],
        "error": [None, "open '/data/b.tif' failed"],
        "_source": ["/data/raw/data/a.tif", "/data/b.tif"],
        "n": [1, 2],
    })
    out = relative_table(table, base_forms("/data"))
    assert out.to_pydict() == {
        "imported_path": ["raw/data/a.tif", "b.tif"],
        "channel_names": [["c0", "x"], None],
        "error": [None, "open 'b.tif' failed"],
        "_source": ["/data/raw/data/a.tif", "/data/b.tif"],
        "n": [1, 2],
    }
