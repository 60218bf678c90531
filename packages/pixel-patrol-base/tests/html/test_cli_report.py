"""``pixel-patrol report`` and ``process --html`` on file-info reports, and their bad input."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pixel_patrol_base import api
from pixel_patrol_base.cli import app
from pixel_patrol_base.html.findings_view import listed

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args))
    return res.exit_code, res.output


@pytest.fixture
def report(tree: Path, tmp_path: Path) -> Path:
    out = tmp_path / "r.parquet"
    code, text = run("process", str(tree), "-o", str(out), "-p", "control", "-p", "treated")
    assert code == 0, text
    return out


def page_json(html: Path) -> dict[str, object]:
    text = html.read_text(encoding="utf-8")
    m = re.search(r'<script id="pp-data" type="application/json">(.*?)</script>', text, re.S)
    assert m is not None
    return json.loads(m.group(1))


def test_report_of_a_file_info_scan(report: Path, tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    code, text = run("report", str(report), "-o", str(html), "--title", "My data")
    assert code == 0, text
    page = html.read_text(encoding="utf-8")
    assert page.count("plotly.js v") == 1  # the library once, inline
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?https?:""", page)
    data = page_json(html)
    view = data["views"][0]
    assert data["header"]["title"] == "My data" and view["groups"] == ["control", "treated"]
    assert view["summary"]["files"] == [2, 2] and view["summary"]["bytes"] == [30, 70]
    assert view["extensions"]["names"] == ["ome.tif", "png", "tif", "txt"]
    assert view["histograms"]["families"] == [] and view["distributions"]["metrics"] == []
    assert [v["group_by"] for v in data["views"]] == ["path", "file_extension"]  # switchable on the page
    assert data["views"][1]["summary"]["files"] == [1, 1, 1, 1]
    assert data["run"]["paths"] == ["control", "treated"]
    assert "dtype" in data["findings"]["skipped"]["clipped"]  # rules a file-info report cannot feed


def test_group_by_another_column_and_api(report: Path, tmp_path: Path) -> None:
    out = api.report(report, tmp_path / "x.html", group_by="file_extension", max_thumbnails=0)
    view = page_json(out)["views"][0]
    assert view["group_by"] == "file_extension"
    assert view["groups"] == ["ome.tif", "png", "tif", "txt"]
    assert view["summary"]["files"] == [1, 1, 1, 1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--group-by", "nope"], "no column 'nope'"),
        (["--group-by", "modification_date"], "not categorical"),
        (["--max-thumbnails", "-1"], "--max-thumbnails"),
    ],
    ids=["unknown-column", "not-categorical", "negative-thumbnails"],
)
def test_bad_options_one_line_exit_2_nothing_written(report: Path, tmp_path: Path, args: list[str], message: str) -> None:
    html = tmp_path / "r.html"
    code, text = run("report", str(report), "-o", str(html), *args)
    assert code == 2 and message in text and len(text.strip().splitlines()) == 1
    assert list(tmp_path.glob("*.html*")) == [] and list(tmp_path.glob(".*html*")) == []


def test_unreadable_report_and_unwritable_output(report: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    code, text = run("report", str(bad), "-o", str(tmp_path / "a.html"))
    assert code == 2 and "bad.parquet" in text and len(text.strip().splitlines()) == 1
    code, text = run("report", str(tmp_path / "missing.parquet"), "-o", str(tmp_path / "a.html"))
    assert code == 2 and "missing.parquet" in text
    code, text = run("report", str(report), "-o", str(tmp_path / "no" / "a.html"))
    assert code == 2 and "does not exist" in text
    code, text = run("report", str(report), "-o", str(tmp_path))
    assert code == 2 and "is a folder" in text
    assert not (tmp_path / "a.html").exists()


def test_expectations_violations_are_findings_and_a_bad_file_is_refused(report: Path, tmp_path: Path) -> None:
    good = tmp_path / "expect.toml"
    good.write_text('[dataset]\nfile_extensions = ["tif"]\n')
    html = tmp_path / "e.html"
    code, text = run("report", str(report), "-o", str(html), "--expect", str(good))
    assert code == 0, text
    items = page_json(html)["findings"]["items"]
    assert items and {f["id"] for f in items} == {"expectation"} and all(f["severity"] == "error" for f in items)
    assert items == [listed(f) for f in api.check(report, good)]
    bad = tmp_path / "bad.toml"
    bad.write_text("[dataset]\nno_such_key = 1\n")
    code, text = run("report", str(report), "-o", str(tmp_path / "b.html"), "--expect", str(bad))
    assert code == 2 and "bad.toml" in text and len(text.strip().splitlines()) == 1
    assert not (tmp_path / "b.html").exists()


def test_missing_extra_names_the_install_command(report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jinja2", None)
    code, text = run("report", str(report), "-o", str(tmp_path / "a.html"))
    assert code == 2 and len(text.strip().splitlines()) == 1
    assert "'report' extra" in text and "'pixel-patrol-base[report]==" in text and "uv build --all-packages" in text
    assert not re.search(r"pip install pixel-patrol", text)
    assert not (tmp_path / "a.html").exists()


def test_process_html_writes_both_and_checks_the_page_path_first(tree: Path, tmp_path: Path) -> None:
    out, html = tmp_path / "r.parquet", tmp_path / "r.html"
    code, text = run("process", str(tree), "-o", str(out), "--html", str(html))
    assert code == 0, text
    assert page_json(html)["views"][0]["summary"]["files"] == [5]  # hidden files are not scanned
    out2 = tmp_path / "r2.parquet"
    code, text = run("process", str(tree), "-o", str(out2), "--html", str(tmp_path / "none" / "r.html"))
    assert code == 2 and "does not exist" in text
    assert not out2.exists()


def test_report_of_an_empty_scan(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    out, html = tmp_path / "e.parquet", tmp_path / "e.html"
    code, text = run("process", str(tmp_path / "empty"), "-o", str(out), "--html", str(html))
    assert code == 0, text
    data = page_json(html)
    assert data["header"]["images"] == 0 and data["views"][0]["groups"] == []
    assert data["findings"]["items"] == [] and data["thumbnails"] == {}
