"""The HTML report as a person sees it: real headless Chromium on a dataset with planted problems.

Asserts no JavaScript error, no request beyond file:/data:/blob:, every section with its plots
drawn, the findings equal to check's JSON, decoded thumbnails, a mosaic that re-orders, a group
filter that changes the counts, a CSV export of the table selection, and links from a finding's
file to its table row. Screenshots go to the test's tmp folder.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from browser import open_page, require_chromium
from report_data import write_dataset

from pixel_patrol_base import api
from pixel_patrol_base.cli import app
from pixel_patrol_base.findings import Finding, RowKey
from pixel_patrol_base.html.write import run_check, write_html

SECTIONS = ["findings", "summary", "files", "metadata", "dimensions", "intensities", "distributions", "trends", "mosaic", "table", "run"]
PLOTTED = ["summary", "files", "metadata", "dimensions", "intensities", "distributions", "trends"]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The planted dataset scanned once, with its page written by ``process --html``."""
    from typer.testing import CliRunner

    require_chromium()
    root = tmp_path_factory.mktemp("page")
    base = write_dataset(root / "data")
    report, page = root / "report.parquet", root / "report.html"
    res = CliRunner().invoke(app, ["process", str(base), "-p", "ctrl", "-p", "drug", "-o", str(report), "--loader", "bioio", "--html", str(page)])
    assert res.exit_code == 0, res.output
    return {"root": root, "report": report, "page": page}


def wait_ready(page: object) -> None:
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)  # type: ignore[attr-defined]


def summary_files(page: object) -> int:
    text = page.inner_text("#summary-cards .card:first-child .v")  # type: ignore[attr-defined]
    return int(text.replace(",", ""))


def test_sections_plots_no_errors_no_network(scanned: dict[str, Path]) -> None:
    with open_page(scanned["page"].as_uri(), scanned["root"] / "profile1") as (page, log):
        wait_ready(page)
        present = page.eval_on_selector_all("section.pp-section", "els => els.map(e => e.dataset.section)")
        assert present == SECTIONS
        for sec in SECTIONS:
            assert page.inner_text(f"#sec-{sec} .explain").strip().endswith(".")
        for sec in PLOTTED:
            plots = page.eval_on_selector_all(f"#sec-{sec} .pp-plot", "els => els.map(e => [e.dataset.drawn, !!e.querySelector('.main-svg')])")
            assert plots, f"section {sec} has no plot"
            assert all(d == "1" and svg for d, svg in plots), (sec, plots)
        n_metrics = page.eval_on_selector_all("#sec-distributions .pp-plot", "els => els.length")
        assert n_metrics >= 8
        page.screenshot(path=str(scanned["root"] / "page.png"), full_page=True)
        assert log.console_errors == []
        assert log.foreign_requests == []
        assert any(u.startswith("file:") for u in log.requests)
    assert (scanned["root"] / "page.png").stat().st_size > 10_000


def dom_findings(page: object) -> list[dict[str, object]]:
    """Every finding the page shows, opened, as id / severity / message / files."""
    page.eval_on_selector_all("details.finding", "els => els.forEach(e => { e.open = true; })")  # type: ignore[attr-defined]
    page.wait_for_function("() => document.querySelectorAll('details.finding .finding-body').length === document.querySelectorAll('details.finding').length")  # type: ignore[attr-defined]
    return page.eval_on_selector_all(  # type: ignore[attr-defined]
        "details.finding",
        """els => els.map(e => ({
            id: e.dataset.id, severity: e.dataset.severity,
            message: e.querySelector('summary .msg').textContent,
            files: Array.from(e.querySelectorAll('.finding-files [data-path]')).map(a => a.dataset.path)}))""",
    )


def expected_view(findings: list[dict[str, object]]) -> list[dict[str, object]]:
    out = []
    for f in findings:
        rows = f["rows"] or [{"imported_path": p} for p in f["files"]]  # type: ignore[union-attr]
        out.append({"id": f["id"], "severity": f["severity"], "message": f["message"], "files": [r["imported_path"] for r in rows][:200]})  # type: ignore[index,union-attr]
    return out


def test_findings_equal_check_json(scanned: dict[str, Path]) -> None:
    table, _meta = api.load(scanned["report"])
    expected = [f.to_json() for f in run_check(table, None)]
    with open_page(scanned["page"].as_uri(), scanned["root"] / "profile2") as (page, log):
        wait_ready(page)
        embedded = json.loads(page.inner_text("#pp-data"))["findings"]["items"]
        assert embedded == expected
        assert dom_findings(page) == expected_view(expected)
        assert log.console_errors == []


def planted_findings(table_paths: list[str]) -> list[Finding]:
    """Findings as the check engine states them, for the files of the planted dataset."""
    by_name = {Path(p).name: p for p in table_paths}
    return [
        Finding("unreadable", "error", "file", "1 file could not be read", files=(by_name["corrupt.tif"],), rows=(RowKey(by_name["corrupt.tif"]),), action="re-export the file"),
        Finding("clipped", "warning", "image", "saturated pixels in 1 image", files=(by_name["saturated.png"],), rows=(RowKey(by_name["saturated.png"]),), value=0.21, threshold=0.001, condition="drug", evidence=(0.21,)),
        Finding("duplicate", "warning", "file", "2 files hold the same pixels", files=(by_name["dup_a.tif"], by_name["dup_b.tif"]), rows=(RowKey(by_name["dup_a.tif"]), RowKey(by_name["dup_b.tif"]))),
        Finding("blank", "warning", "slice", "a constant image", files=(by_name["blank.tif"],), rows=(RowKey(by_name["blank.tif"]),), evidence=(0.0,), condition="ctrl"),
        Finding("non-finite", "info", "image", "NaN pixels in 1 image", files=(by_name["nan.tif"],), rows=(RowKey(by_name["nan.tif"]),), value=20, evidence=(20,)),
    ]


@pytest.fixture(scope="module")
def flagged_page(scanned: dict[str, Path]) -> Path:
    """The same report with stated findings, so every finding path of the page is exercised."""
    table, meta = api.load(scanned["report"])
    out = scanned["root"] / "flagged.html"
    write_html((table, meta), out, findings=planted_findings(table.column("imported_path").to_pylist()), max_thumbnails=6)
    return out


def test_stated_findings_shown_in_order_with_thumbnails_and_links(scanned: dict[str, Path], flagged_page: Path) -> None:
    table, _ = api.load(scanned["report"])
    findings = planted_findings(table.column("imported_path").to_pylist())
    with open_page(flagged_page.as_uri(), scanned["root"] / "profile3") as (page, log):
        wait_ready(page)
        assert dom_findings(page) == expected_view([f.to_json() for f in findings])
        thumbs = page.eval_on_selector_all(".finding-files img", "els => els.map(e => e.naturalWidth)")
        assert len(thumbs) == 5 and all(w == 64 for w in thumbs)  # the corrupt file has no thumbnail
        page.click("details.finding[data-id='clipped'] a.row-link[data-path]")
        page.wait_for_selector("#image-table tr.hl")
        row = page.inner_text("#image-table tr.hl")
        assert "saturated.png" in row and "clipped" in row
        page.screenshot(path=str(scanned["root"] / "flagged.png"), full_page=False)
        assert log.console_errors == []


def test_thumbnails_decoded_and_mosaic_sorts(scanned: dict[str, Path]) -> None:
    with open_page(scanned["page"].as_uri(), scanned["root"] / "profile4") as (page, log):
        wait_ready(page)
        widths = page.eval_on_selector_all(".mosaic img", "els => els.map(e => [e.complete, e.naturalWidth])")
        assert len(widths) == 17  # every readable image of the dataset
        assert all(ok and w == 64 for ok, w in widths)
        order = lambda: page.eval_on_selector_all(".mosaic[data-group='0'] figure", "els => els.map(e => Number(e.dataset.index))")  # noqa: E731
        before = order()
        page.select_option("#mosaic-sort", "mean_intensity")
        top = order()
        page.select_option("#mosaic-order", "bottom")
        bottom = order()
        assert sorted(before) == sorted(top) == sorted(bottom)
        assert top != before and bottom == top[::-1]
        means = json.loads(page.evaluate("""() => JSON.stringify(Array.from(document.querySelectorAll(".mosaic[data-group='0'] figure")).map(f => f.title))"""))
        values = [float(t.split("mean_intensity = ")[1].split("\n")[0].replace(",", "")) for t in means]
        assert values == sorted(values)
        assert log.console_errors == []


def test_group_filter_changes_every_count(scanned: dict[str, Path]) -> None:
    table, _ = api.load(scanned["report"])
    rows = table.filter(table.column("obs_level").to_numpy() == 0).select(["imported_path", "path"]).to_pylist()
    ctrl_files = len({r["imported_path"] for r in rows if r["path"] == "ctrl"})
    with open_page(scanned["page"].as_uri(), scanned["root"] / "profile5") as (page, log):
        wait_ready(page)
        assert summary_files(page) == len({r["imported_path"] for r in rows})
        assert page.inner_text("#table-count").startswith(f"{len(rows)} of")
        page.uncheck("#pp-groups input[data-group='1']")
        page.wait_for_function("() => document.querySelectorAll('#sec-summary .active-filter').length === 1")
        assert summary_files(page) == ctrl_files
        n_ctrl = sum(r["path"] == "ctrl" for r in rows)
        assert page.inner_text("#table-count").startswith(f"{n_ctrl} of")
        assert page.eval_on_selector_all(".mosaic", "els => els.map(e => e.dataset.group)") == ["0"]
        assert page.eval_on_selector_all("section .active-filter", "els => els.length") == len(SECTIONS)
        drawn = page.eval_on_selector_all(".pp-plot", "els => els.every(e => e.dataset.drawn === '1')")
        assert drawn
        assert log.console_errors == []


def test_csv_export_of_the_filtered_sorted_selection(scanned: dict[str, Path]) -> None:
    with open_page(scanned["page"].as_uri(), scanned["root"] / "profile6") as (page, log):
        wait_ready(page)
        page.fill("#table-search", "cells_")
        page.press("#table-search", "Enter")
        page.click("#image-table th[data-col='mean_intensity']")
        page.click("#image-table th[data-col='mean_intensity']")
        with page.expect_download() as info:
            page.click("#table-csv")
        target = scanned["root"] / "selection.csv"
        info.value.save_as(target)
        assert log.console_errors == []
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == 6 and all(Path(r["imported_path"]).name.startswith("cells_") for r in rows)
    means = [float(r["mean_intensity"]) for r in rows]
    assert means == sorted(means, reverse=True)
    table, _ = api.load(scanned["report"])
    truth = {r["imported_path"]: r["mean_intensity"] for r in table.to_pylist() if r["obs_level"] == 0}
    for r in rows:
        assert float(r["mean_intensity"]) == pytest.approx(truth[r["imported_path"]], rel=1e-6)
        assert r["path"] in ("ctrl", "drug")
