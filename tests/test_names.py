"""Files whose names are not UTF-8: each gets its own report path, which gives back its bytes."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixel_patrol_base import api
from pixel_patrol_base.pathtext import decode_path

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file names are bytes on POSIX only")


def write_tif(path: bytes, value: int) -> None:
    buf = io.BytesIO()
    tifffile.imwrite(buf, np.full((6, 7), value, dtype=np.uint16), photometric="minisblack")
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def scan(base: Path, out: Path, **kw: object) -> list[dict]:
    project = api.create_project("names", base, loader="tifffile", output_path=out)
    api.process_files(project, max_workers=1, processors_include=["raster-basic"], **kw)  # type: ignore[arg-type]
    return api.load(out)[0].to_pylist()


def test_byte_name_and_escape_lookalike_are_two_files(tmp_path: Path) -> None:
    base = tmp_path / "d"
    base.mkdir()
    raw = os.fsencode(base) + b"/x\xff.tif"
    lookalike = os.fsencode(base) + b"/x\\xff.tif"
    write_tif(raw, 1)
    write_tif(lookalike, 2)
    out = tmp_path / "r.parquet"
    rows = scan(base, out)
    by_path = {r["imported_path"]: r for r in rows}
    assert len(by_path) == 2
    assert {decode_path(p) for p in by_path} == {raw, lookalike}
    assert {decode_path(p): r["mean_intensity"] for p, r in by_path.items()} == {raw: 1.0, lookalike: 2.0}
    assert {decode_path(r["file_name"]) for r in rows} == {b"x\xff.tif", b"x\\xff.tif"}

    os.unlink(raw)
    rows = scan(base, out, incremental=True)
    summary = api.last_summary()
    assert summary is not None and summary.incremental == {"reused": 1, "new": 0, "changed": 0, "removed": 1}
    assert [decode_path(r["imported_path"]) for r in rows] == [lookalike]
    assert rows == scan(base, tmp_path / "fresh.parquet")


def test_error_text_of_a_byte_name_is_valid(tmp_path: Path) -> None:
    base = tmp_path / "d"
    base.mkdir()
    bad = os.fsencode(base) + b"/bad\xfe.tif"
    with open(bad, "wb") as f:
        f.write(b"II*\0 this is not a tiff")
    rows = scan(base, tmp_path / "r.parquet")
    assert len(rows) == 1 and rows[0]["error"] and rows[0]["error_stage"] == "header"
    assert decode_path(rows[0]["imported_path"]) == bad


def test_exception_text_with_a_byte_path_becomes_an_error_row(tmp_path: Path) -> None:
    from npy_loaders import FailingNpyLoader

    from pixel_patrol_base import plugins

    base = tmp_path / "d"
    base.mkdir()
    for name in (b"perm\xfe.npy", b"boom\xfe.npy", b"ok.npy"):
        with open(os.fsencode(base) + b"/" + name, "wb") as f:
            np.save(f, np.arange(12, dtype=np.uint8).reshape(3, 4))
    plugins.register(plugins.LOADER_GROUP, FailingNpyLoader)
    try:
        project = api.create_project("names", base, loader="npy-fail", output_path=tmp_path / "r.parquet")
        api.process_files(project, max_workers=1, processors_include=["raster-basic"])
    finally:
        plugins.unregister(plugins.LOADER_GROUP, FailingNpyLoader.NAME)
    rows = api.load(tmp_path / "r.parquet")[0].to_pylist()
    errors = {decode_path(r["file_name"]): r["error"] for r in rows}
    assert errors[b"ok.npy"] is None
    assert errors[b"perm\xfe.npy"].startswith("PermissionError: [Errno 13] Permission denied")
    assert errors[b"boom\xfe.npy"].startswith("RuntimeError: decoder crashed on")
    assert all(r["error_stage"] == "header" for r in rows if r["error"])


names = st.lists(
    st.binary(min_size=1, max_size=30).filter(
        lambda b: b"/" not in b and b"\0" not in b and not b.startswith(b".")
    ),
    min_size=1,
    max_size=6,
    unique=True,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names)
def test_any_byte_names_round_trip_through_a_report(tmp_path: Path, raw_names: list[bytes]) -> None:
    work = Path(tempfile.mkdtemp(dir=tmp_path))
    try:
        base = work / "d"
        base.mkdir()
        for i, name in enumerate(raw_names):
            with open(os.fsencode(base) + b"/" + name, "wb") as f:
                f.write(bytes(i + 1))
        project = api.create_project("names", base, output_path=work / "r.parquet")
        api.process_files(project, max_workers=1)
        rows = api.load(work / "r.parquet")[0].to_pylist()
        assert sorted(decode_path(r["imported_path"]) for r in rows) == sorted(os.fsencode(base) + b"/" + n for n in raw_names)
        assert sorted(decode_path(r["file_name"]) for r in rows) == sorted(raw_names)
        for r in rows:
            assert os.stat(decode_path(r["imported_path"])).st_size == r["file_size"]
    finally:
        shutil.rmtree(work)


def test_byte_names_in_base_condition_and_description(tmp_path: Path) -> None:
    base = os.fsencode(tmp_path) + b"/base\xff"
    os.makedirs(base + b"/cond\xfe")
    write_tif(base + b"/cond\xfe/a.tif", 3)
    project = api.create_project("names", os.fsdecode(base), loader="tifffile", output_path=tmp_path / "r.parquet", description=os.fsdecode(b"run \xfe"))
    project = api.add_paths(project, [os.fsdecode(b"cond\xfe")])
    api.process_files(project, max_workers=1, processors_include=["raster-basic"])
    table, meta = api.load(tmp_path / "r.parquet")
    rows = table.to_pylist()
    assert {r["path"] for r in rows} == set(meta.paths) == {"cond\\xfe"}
    assert meta.base_dir is not None and decode_path(meta.base_dir) == base
    assert meta.description == "run \\xfe"
    assert decode_path(rows[0]["imported_path"]) == base + b"/cond\xfe/a.tif"
