"""``-o`` never destroys data: only a new path or a Pixel Patrol report is written, on request."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pixel_patrol_base import api
from pixel_patrol_base.cli import app
from pixel_patrol_base.errors import SettingsError
from pixel_patrol_base.outputs import is_report
from pixel_patrol_base.report import read_report

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args))
    return res.exit_code, res.output


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its bytes (``None`` for folders)."""
    out: dict[str, bytes | None] = {}
    for dirpath, dirs, files in os.walk(folder):
        for d in dirs:
            out[os.path.join(dirpath, d)] = None
        for f in files:
            p = os.path.join(dirpath, f)
            out[p] = None if os.path.islink(p) else Path(p).read_bytes()
    return out


def refused(tmp_path: Path, *args: str, fragment: str) -> str:
    """Run ``process`` with ``args``; assert exit 2, one line naming ``fragment``, nothing changed."""
    before = snapshot(tmp_path)
    code, text = run("process", *args)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert code == 2, text
    assert len(lines) == 1 and lines[0].startswith("pixel-patrol: error:"), text
    assert fragment in lines[0], lines[0]
    assert snapshot(tmp_path) == before
    return lines[0]


def make_report(tree: Path, out: Path) -> bytes:
    code, text = run("process", str(tree), "-o", str(out))
    assert code == 0, text
    return out.read_bytes()


@pytest.mark.parametrize("name", ["notes.txt", "r.parquet"], ids=["text-file", "text-named-parquet"])
def test_unrelated_file_is_never_replaced(tree: Path, tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    target.write_text("my notes\n")
    for extra in ([], ["--overwrite"], ["--incremental"], ["--resume"]):
        line = refused(tmp_path, str(tree), "-o", str(target), "--allow-any-extension", *extra, fragment="is not a Pixel Patrol report")
        assert "choose another -o" in line
    assert target.read_text() == "my notes\n"


def test_input_file_inside_base_is_never_replaced(tree: Path, tmp_path: Path) -> None:
    image = tree / "control" / "a.tif"
    before = image.read_bytes()
    refused(tmp_path, str(tree), "-o", str(image), fragment="does not end in .parquet")
    refused(tmp_path, str(tree), "-o", str(image), "--allow-any-extension", "--overwrite", fragment="not a Pixel Patrol report")
    assert image.read_bytes() == before


@pytest.mark.parametrize(
    "where",
    ["new.parquet", "control/new.parquet", "control/sub/new.parquet"],
)
def test_report_the_scan_would_read_is_refused(tree: Path, tmp_path: Path, where: str) -> None:
    line = refused(tmp_path, str(tree), "-o", str(tree / where), fragment="lies inside the scanned folder")
    assert "write the report outside the scanned folders" in line


def test_report_inside_base_but_not_scanned_is_allowed(tree: Path, tmp_path: Path) -> None:
    hidden = tree / ".reports" / "r.parquet"
    hidden.parent.mkdir()
    code, text = run("process", str(tree), "-o", str(hidden))
    assert code == 0, text
    other = tree / "treated" / "r.parquet"  # only control is scanned
    code, text = run("process", str(tree), "-p", "control", "-o", str(other))
    assert code == 0, text
    assert read_report(other)[0].num_rows == 2


def test_log_file_the_scan_would_read_is_refused(tree: Path, tmp_path: Path) -> None:
    refused(tmp_path, str(tree), "-o", str(tree / "out.parquet"), "--log-file", fragment="lies inside the scanned folder")


@pytest.mark.parametrize("suffix", [os.sep, os.sep + os.sep])
def test_output_ending_in_a_separator_is_refused(tree: Path, tmp_path: Path, suffix: str) -> None:
    (tmp_path / "out").mkdir()
    refused(tmp_path, str(tree), "-o", str(tmp_path / "out") + suffix, fragment="ends with a path separator")
    refused(tmp_path, str(tree), "-o", str(tmp_path / "new") + suffix, fragment="ends with a path separator")


def test_other_extension_needs_allow_any_extension(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.pq"
    line = refused(tmp_path, str(tree), "-o", str(out), fragment="does not end in .parquet")
    assert "'r.parquet'" in line and "--allow-any-extension" in line
    code, text = run("process", str(tree), "-o", str(out), "--allow-any-extension")
    assert code == 0, text
    assert is_report(out)
    code, text = run("process", str(tree), "-o", str(tmp_path / "R.PARQUET"))
    assert code == 0, text


def test_existing_report_is_replaced_only_on_request(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    first = make_report(tree, out)
    line = refused(tmp_path, str(tree), "-o", str(out), fragment="already holds a Pixel Patrol report")
    assert "--overwrite" in line and "--incremental" in line
    assert out.read_bytes() == first
    (tree / "new.tif").write_bytes(b"6" * 60)
    code, text = run("process", str(tree), "-o", str(out), "--overwrite")
    assert code == 0, text
    assert read_report(out)[0].num_rows == 6
    for flag in ("--incremental", "--resume"):
        code, text = run("process", str(tree), "-o", str(out), flag)
        assert code == 0, text


def test_symbolic_link_is_refused(tree: Path, tmp_path: Path) -> None:
    real = tmp_path / "real.parquet"
    make_report(tree, real)
    link = tmp_path / "link.parquet"
    link.symlink_to(real)
    refused(tmp_path, str(tree), "-o", str(link), "--overwrite", fragment="is a symbolic link")
    (tmp_path / "dangling.parquet").symlink_to(tmp_path / "nowhere")
    refused(tmp_path, str(tree), "-o", str(tmp_path / "dangling.parquet"), fragment="is a symbolic link")


def test_user_log_file_is_not_clobbered(tree: Path, tmp_path: Path) -> None:
    (tmp_path / "r.log").write_text("lab notebook\n")
    refused(tmp_path, str(tree), "-o", str(tmp_path / "r.parquet"), "--log-file", fragment="is not a Pixel Patrol log")
    (tmp_path / "r.log").unlink()
    code, text = run("process", str(tree), "-o", str(tmp_path / "r.parquet"), "--log-file")
    assert code == 0, text
    code, text = run("process", str(tree), "-o", str(tmp_path / "r.parquet"), "--log-file", "--overwrite")
    assert code == 0, text  # our own log is replaced


def test_log_of_a_report_named_log_is_beside_it(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.log"
    code, text = run("process", str(tree), "-o", str(out), "--log-file", "--allow-any-extension")
    assert code == 0, text
    assert is_report(out)
    assert "debug log" in (tmp_path / "r.log.log").read_text()


def test_user_folder_in_place_of_progress_folder_is_kept(tree: Path, tmp_path: Path) -> None:
    parts = tmp_path / ".r.parquet.parts"
    parts.mkdir()
    (parts / "precious.txt").write_text("keep me")
    refused(tmp_path, str(tree), "-o", str(tmp_path / "r.parquet"), fragment="is not Pixel Patrol's")
    (parts / "run.json").write_text("{}")  # looks like ours but holds a foreign file
    refused(tmp_path, str(tree), "-o", str(tmp_path / "r.parquet"), fragment="is not Pixel Patrol's")
    assert (parts / "precious.txt").read_text() == "keep me"


def test_user_file_in_place_of_temporary_report_is_kept(tree: Path, tmp_path: Path) -> None:
    tmp = tmp_path / f".r.parquet.tmp-{os.getpid()}"
    tmp.write_text("keep me")
    refused(tmp_path, str(tree), "-o", str(tmp_path / "r.parquet"), fragment="is not Pixel Patrol's")
    tmp.write_bytes(b"PAR1")  # what a killed run leaves behind
    code, text = run("process", str(tree), "-o", str(tmp_path / "r.parquet"))
    assert code == 0, text
    assert not tmp.exists()


def test_api_applies_the_same_rules(tree: Path, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="ends with a path separator"):
        api.create_project("p", tree, output_path=str(tmp_path) + os.sep)
    notes = tmp_path / "notes.parquet"
    notes.write_text("mine")
    with pytest.raises(SettingsError, match="not a Pixel Patrol report"):
        api.process_files(api.create_project("p", tree, output_path=notes), overwrite=True)
    with pytest.raises(SettingsError, match=r"does not end in \.parquet"):
        api.process_files(api.create_project("p", tree, output_path=tmp_path / "r.txt"))
    with pytest.raises(SettingsError, match="lies inside the scanned folder"):
        api.process_files(api.create_project("p", tree, output_path=tree / "r.parquet"))
    out = tmp_path / "r.parquet"
    project = api.create_project("p", tree, output_path=out)
    api.process_files(project)
    with pytest.raises(SettingsError, match="already holds a Pixel Patrol report"):
        api.process_files(project)
    api.process_files(project, overwrite=True)
    assert notes.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "notes.parquet", "r.parquet"]


def test_report_recognised_from_its_footer(tmp_path: Path) -> None:
    plain = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), plain)
    assert not is_report(plain)
    ours = tmp_path / "ours.parquet"
    pq.write_table(pa.table({"a": [1]}).replace_schema_metadata({"pixel_patrol.name": '"x"'}), ours)
    assert is_report(ours)
    fake = tmp_path / "fake.parquet"
    fake.write_bytes(b"PAR1" + b"\0" * 100 + b"PAR1")
    assert not is_report(fake)
    (tmp_path / "short").write_bytes(b"PAR1")
    assert not is_report(tmp_path / "short")
