"""The HTML report as a person sees it: real headless Chromium on the planted-problem dataset.

Asserts no JavaScript error, no request beyond file:/data:/blob:, every section with its plots
drawn, the findings equal to ``pixel-patrol check --json``, decoded thumbnails, a mosaic that
re-orders, a group filter that changes the counts, a CSV export of the table selection, and a
link from a finding's file to its table row. Screenshots go to the test's tmp folder.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from browser import open_page, require_chromium
from planted import scan, write_planted
from typer.testing import CliRunner

from pixel_patrol_base import api
from pixel_patrol_base.cli import app
from pixel_patrol_base.html.findings_view import LISTED_ROWS

SECTIONS = ["findings", "summary", "files", "metadata", "dimensions", "intensities", "distributions", "trends", "mosaic", "table", "run"]
PLOTTED = ["summary", "files", "metadata", "dimensions", "intensities", "distributions", "trends"]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The planted dataset scanned once; its page and check's JSON written by the commands."""
    require_chromium()
    root = tmp_path_factory.mktemp("page")
    write_planted(root / "data")
    report = scan(root / "data", root / "report.parquet")
    page, found = root / "report.html", root / "findings.json"
    runner = CliRunner()
    res = runner.invoke(app, ["report", str(report), "-o", str(page)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["check", str(report), "--json", str(found)])
    assert res.exit_code == 1, res.output  # the dataset has errors
    return {"root": root, "report": report, "page": page, "findings": found}


def wait_ready(page: object) -> None:
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)  # type: ignore[attr-defined]


def image_rows(report: Path) -> list[dict[str, object]]:
    table, _ = api.load(report)
    return [r for r in table.select(["imported_path", "path", "obs_level", "error", "mean_intensity"]).to_pylist() if r["obs_level"] == 0]


def test_sections_plots_no_errors_no_network(planted: dict[str, Path]) -> None:
    with open_page(planted["page"].as_uri(), planted["root"] / "profile1") as (page, log):
        wait_ready(page)
        assert page.eval_on_selector_all("section.pp-section", "els => els.map(e => e.dataset.section)") == SECTIONS
        for sec in SECTIONS:
            assert page.inner_text(f"#sec-{sec} .explain").strip().endswith(".")
        for sec in PLOTTED:
            plots = page.eval_on_selector_all(f"#sec-{sec} .pp-plot", "els => els.map(e => [e.dataset.drawn, !!e.querySelector('.main-svg')])")
            assert plots, f"section {sec} has no plot"
            assert all(d == "1" and svg for d, svg in plots), (sec, plots)
        metrics = page.eval_on_selector_all("#sec-distributions .pp-plot", "els => els.map(e => e.dataset.metric)")
        assert {"mean_intensity", "laplacian_variance", "count_at_max"} <= set(metrics)
        for m in ("mean_intensity", "laplacian_variance"):  # every metric says what it is
            desc = page.inner_text(f"#sec-distributions .panel:has(.pp-plot[data-metric='{m}']) .desc")
            assert len(desc) > 20
        page.screenshot(path=str(planted["root"] / "page.png"), full_page=True)
        assert log.console_errors == []
        assert log.foreign_requests == []
        assert any(u.startswith("file:") for u in log.requests)
    assert (planted["root"] / "page.png").stat().st_size > 50_000


def dom_findings(page: object) -> list[dict[str, object]]:
    """Every finding the page shows, opened: id, severity, message and its files."""
    page.eval_on_selector_all("details.finding", "els => els.forEach(e => { e.open = true; })")  # type: ignore[attr-defined]
    page.wait_for_function("() => document.querySelectorAll('details.finding .finding-body').length === document.querySelectorAll('details.finding').length")  # type: ignore[attr-defined]
    return page.eval_on_selector_all(  # type: ignore[attr-defined]
        "details.finding",
        """els => els.map(e => ({
            id: e.dataset.id, severity: e.dataset.severity,
            message: e.querySelector('summary .msg').textContent,
            files: Array.from(e.querySelectorAll('.finding-files [data-path]')).map(a => a.dataset.path)}))""",
    )


def as_shown(findings: list[dict[str, object]]) -> list[dict[str, object]]:
    """What the page lists for each finding: its rows' files (its files when it has no rows)."""
    out = []
    for f in findings:
        rows = f["rows"] or [{"imported_path": p} for p in f["files"]]  # type: ignore[union-attr]
        out.append({"id": f["id"], "severity": f["severity"], "message": f["message"], "files": [r["imported_path"] for r in rows][:LISTED_ROWS]})  # type: ignore[index,union-attr]
    return out


def as_embedded(f: dict[str, object]) -> dict[str, object]:
    """check's JSON of a finding as the page embeds it: totals kept, lists cut to the listed rows."""
    out = {**f, "n_files": len(f["files"]), "n_rows": len(f["rows"])}  # type: ignore[arg-type]
    for key in ("files", "rows", "evidence"):
        out[key] = f[key][:LISTED_ROWS]  # type: ignore[index]
    return out


def test_findings_equal_check_json(planted: dict[str, Path]) -> None:
    expected = json.loads(planted["findings"].read_text())["findings"]
    assert {f["severity"] for f in expected} == {"error", "warning", "info"}
    with open_page(planted["page"].as_uri(), planted["root"] / "profile2") as (page, log):
        wait_ready(page)
        assert json.loads(page.inner_text("#pp-data"))["findings"]["items"] == [as_embedded(f) for f in expected]
        assert dom_findings(page) == as_shown(expected)
        badges = page.inner_text("#pp-header")
        for sev in ("error", "warning", "info"):
            assert f"{sum(f['severity'] == sev for f in expected)} {sev}" in badges
        thumbs = page.eval_on_selector_all(".finding-files img", "els => els.map(e => [e.complete, e.naturalWidth])")
        assert thumbs and all(ok and w == 64 for ok, w in thumbs)
        link = "details.finding[data-id='non-finite'] a.row-link[data-path]"
        target = page.get_attribute(link, "data-path")
        assert target == next(f["files"][0] for f in expected if f["id"] == "non-finite")
        page.click(link)
        page.wait_for_selector("#image-table tr.hl")
        assert page.get_attribute("#image-table tr.hl td[data-path]", "data-path") == target
        cells = page.eval_on_selector_all("#image-table tr.hl td", "els => els.map(e => e.textContent)")
        assert "non-finite" in cells and Path(target).name in " ".join(cells)
        page.screenshot(path=str(planted["root"] / "finding-row.png"))
        assert log.console_errors == []


def test_thumbnails_decoded_and_mosaic_sorts(planted: dict[str, Path]) -> None:
    readable = [r for r in image_rows(planted["report"]) if r["error"] is None]
    with open_page(planted["page"].as_uri(), planted["root"] / "profile3") as (page, log):
        wait_ready(page)
        widths = page.eval_on_selector_all(".mosaic img", "els => els.map(e => [e.complete, e.naturalWidth])")
        assert len(widths) == len(readable)  # fewer than --max-thumbnails: every readable image
        assert all(ok and w == 64 for ok, w in widths)
        group = "[data-group='3']"  # 'clipped'

        def order() -> list[int]:
            return page.eval_on_selector_all(f".mosaic{group} figure", "els => els.map(e => Number(e.dataset.index))")

        before = order()
        page.select_option("#mosaic-sort", "mean_intensity")
        top = order()
        page.select_option("#mosaic-order", "bottom")
        bottom = order()
        assert sorted(before) == sorted(top) == sorted(bottom) and len(top) > 3
        assert top != before and bottom == top[::-1]
        titles = page.eval_on_selector_all(f".mosaic{group} figure", "els => els.map(e => e.title)")
        values = [float(t.split("mean_intensity = ")[1].split("\n")[0].replace(",", "")) for t in titles]
        assert values == sorted(values)
        assert log.console_errors == []


def summary_files(page: object) -> int:
    return int(page.inner_text("#summary-cards .card:first-child .v").replace(",", ""))  # type: ignore[attr-defined]


def test_group_filter_changes_every_count(planted: dict[str, Path]) -> None:
    rows = image_rows(planted["report"])
    clipped = [r for r in rows if r["path"] == "clipped"]
    with open_page(planted["page"].as_uri(), planted["root"] / "profile4") as (page, log):
        wait_ready(page)
        assert summary_files(page) == len({r["imported_path"] for r in rows})
        assert page.inner_text("#table-count").startswith(f"{len(rows)} of")
        page.click("#pp-none")
        page.check("#pp-groups input[data-group='3']")
        page.wait_for_function("() => document.body.dataset.ready === '1' && document.querySelectorAll('#sec-summary .active-filter').length === 1")
        assert summary_files(page) == len({r["imported_path"] for r in clipped})
        assert page.inner_text("#table-count").startswith(f"{len(clipped)} of")
        assert page.eval_on_selector_all(".mosaic", "els => els.map(e => e.dataset.group)") == ["3"]
        assert page.eval_on_selector_all("section .active-filter", "els => els.length") == len(SECTIONS)
        shown = page.eval_on_selector_all("details.finding", "els => els.length")
        assert 0 < shown < len(json.loads(planted["findings"].read_text())["findings"])
        assert page.eval_on_selector_all(".pp-plot", "els => els.every(e => e.dataset.drawn === '1')")
        page.screenshot(path=str(planted["root"] / "filtered.png"), full_page=True)
        assert log.console_errors == []


def test_csv_export_of_the_filtered_sorted_selection(planted: dict[str, Path]) -> None:
    rows = [r for r in image_rows(planted["report"]) if "/outlier/" in str(r["imported_path"])]
    with open_page(planted["page"].as_uri(), planted["root"] / "profile5") as (page, log):
        wait_ready(page)
        page.fill("#table-search", "/outlier/")
        page.press("#table-search", "Enter")
        page.click("#image-table th[data-col='mean_intensity']")
        page.click("#image-table th[data-col='mean_intensity']")
        with page.expect_download() as info:
            page.click("#table-csv")
        target = planted["root"] / "selection.csv"
        info.value.save_as(target)
        assert log.console_errors == []
    got = list(csv.DictReader(io.StringIO(target.read_text())))
    assert sorted(r["imported_path"] for r in got) == sorted(str(r["imported_path"]) for r in rows)
    means = [float(r["mean_intensity"]) for r in got]
    assert means == sorted(means, reverse=True)
    truth = {r["imported_path"]: r["mean_intensity"] for r in rows}
    for r in got:
        assert float(r["mean_intensity"]) == pytest.approx(truth[r["imported_path"]], rel=1e-6)
        assert r["path"] == "outlier"
    assert "outlier" in {x for r in got for x in r["findings"].split()}


def test_regroup_on_the_page(planted: dict[str, Path]) -> None:
    rows = image_rows(planted["report"])
    table, _ = api.load(planted["report"])
    ext = {r["imported_path"]: r["file_extension"] for r in table.select(["imported_path", "file_extension"]).to_pylist()}
    by_ext: dict[str, set[str]] = {}
    for r in rows:
        by_ext.setdefault(str(ext[r["imported_path"]]), set()).add(str(r["imported_path"]))
    with open_page(planted["page"].as_uri(), planted["root"] / "profile6") as (page, log):
        wait_ready(page)
        options = page.eval_on_selector_all("#pp-view option", "els => els.map(e => e.textContent)")
        assert options[0] == "path" and "file_extension" in options
        page.select_option("#pp-view", label="file_extension")
        page.wait_for_function("() => document.querySelector('#pp-groupby').textContent === '(file_extension)'")
        labels = page.eval_on_selector_all("#pp-groups label", "els => els.map(e => e.textContent)")
        assert labels == sorted(by_ext)
        first = sorted(by_ext)[0]
        page.click("#pp-none")
        page.check("#pp-groups input[data-group='0']")
        page.wait_for_function("() => document.querySelectorAll('#sec-summary .active-filter').length === 1")
        assert summary_files(page) == len(by_ext[first])
        assert page.eval_on_selector_all(".pp-plot", "els => els.every(e => e.dataset.drawn === '1')")
        assert log.console_errors == []


def test_page_in_firefox(planted: dict[str, Path]) -> None:
    """The same page in Debian's Firefox ESR (WebDriver BiDi, no driver download)."""
    from firefox_bidi import FIREFOX, visit

    if not Path(FIREFOX).is_file():
        pytest.skip("Debian's firefox-esr is not installed (apt-get install -y firefox-esr)")
    state = visit(planted["page"].as_uri(), planted["root"] / "ff-profile", planted["root"] / "firefox.png")
    readable = [r for r in image_rows(planted["report"]) if r["error"] is None]
    assert state["ready"] == "1" and state["sections"] == len(SECTIONS)
    assert state["plots"] > 20 and state["drawn"] == state["plots"]
    assert state["mosaic"] == state["thumbs"] == len(readable)
    assert state["errors"] == []
    assert [u for u in state["requests"] if not u.startswith(("file:", "data:", "blob:"))] == []
