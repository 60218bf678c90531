"""`check` on real scans: every planted problem is found, a clean dataset gives no warning."""

from __future__ import annotations

from pathlib import Path

import pytest
from planted import Planted, write_clean

from pixel_patrol_base import api
from pixel_patrol_base.findings.engine import known_rules
from pixel_patrol_base.findings.model import Finding


@pytest.fixture(scope="module")
def planted_findings(planted_report: tuple[Path, list[Planted], Path]) -> list[Finding]:
    return api.check(planted_report[0])


PLANTED_IDS = [r for r in known_rules() if r != "expectation"]


def test_every_finding_id_has_a_planted_case(planted_report: tuple[Path, list[Planted], Path]) -> None:
    assert {p.id for p in planted_report[1]} == set(PLANTED_IDS)


@pytest.mark.parametrize("rid", PLANTED_IDS)
def test_planted_problem_is_found_with_its_files_and_severity(
    rid: str, planted_report: tuple[Path, list[Planted], Path], planted_findings: list[Finding]
) -> None:
    _, expected, base = planted_report
    for plant in (p for p in expected if p.id == rid):
        want = {str(base / f) for f in plant.files}
        same_id = [(f.severity, sorted(f.files)) for f in planted_findings if f.id == rid]
        assert any(
            f.id == rid and f.severity == plant.severity and set(f.files) == want for f in planted_findings
        ), f"{plant} not reported; {rid} findings: {same_id}"


def test_findings_are_ranked_errors_first(planted_findings: list[Finding]) -> None:
    order = {"error": 0, "warning": 1, "info": 2}
    ranks = [order[f.severity] for f in planted_findings]
    assert ranks == sorted(ranks) and ranks[0] == 0


def test_clean_dataset_gives_no_warning_and_no_error(clean_report: Path) -> None:
    findings = api.check(clean_report)
    loud = [(f.severity, f.id, f.message) for f in findings if f.severity != "info"]
    assert loud == []


def test_findings_of_a_table_equal_those_of_its_file(clean_report: Path, planted_report: tuple[Path, list[Planted], Path]) -> None:
    report = planted_report[0]
    table, _ = api.load(report)
    assert api.check(table) == api.check(report)


def test_a_file_info_only_report_is_checked_for_what_it_has(tmp_path: Path) -> None:
    base = tmp_path / "data"
    write_clean(base, n=2)
    project = api.create_project("files", base, output_path=tmp_path / "files.parquet")
    api.process_files(project, max_workers=1)
    from pixel_patrol_base.findings.engine import run_check

    result = run_check(tmp_path / "files.parquet")
    assert result.findings == []
    assert "clipped" in result.skipped and "the report has no" in result.skipped["clipped"]


def test_the_demo_shows_its_two_planted_problems(demo: Path, tmp_path: Path) -> None:
    project = api.create_project("demo", demo, loader="bioio", output_path=tmp_path / "demo.parquet")
    project = api.add_paths(project, ["control", "treated"])
    api.process_files(project, max_workers=1)
    errors = [(f.id, [Path(p).relative_to(demo).as_posix() for p in f.files]) for f in api.check(tmp_path / "demo.parquet") if f.severity == "error"]
    assert errors == [
        ("clipped", ["treated/stack_zcyx.tif"]),
        ("duplicate", ["control/nuclei_00.tif", "treated/nuclei_02.tif"]),
    ]


def test_every_rule_setting_is_documented() -> None:
    from pixel_patrol_base.findings.params import RULES

    doc = (Path(__file__).resolve().parents[1] / "docs" / "findings.md").read_text(encoding="utf-8")
    for rule, params in RULES.items():
        assert f"| `{rule}` |" in doc, rule
        for name in params:
            if name != "enabled":
                assert f"| `{rule}` | `{name}` |" in doc, f"{rule}.{name}"


def test_same_pixels_in_png_and_tiff_have_one_hash(tmp_path: Path) -> None:
    import numpy as np
    import tifffile
    from PIL import Image

    base = tmp_path / "data"
    base.mkdir()
    pixels = np.random.default_rng(3).integers(0, 256, (40, 56), dtype=np.uint8)
    Image.fromarray(pixels).save(base / "a.png")
    tifffile.imwrite(base / "b.tif", pixels, compression="zlib")
    tifffile.imwrite(base / "c.tif", pixels.T.copy())
    project = api.create_project("fmt", base, loader="bioio", output_path=tmp_path / "r.parquet")
    api.process_files(project, max_workers=1)
    table, _ = api.load(tmp_path / "r.parquet")
    hashes = dict(zip((Path(p).name for p in table.column("imported_path").to_pylist()), table.column("pixel_hash").to_pylist(), strict=True))
    assert hashes["a.png"] == hashes["b.tif"] != hashes["c.tif"]
    dup = [f for f in api.check(table) if f.id == "duplicate"]
    assert [sorted(Path(p).name for p in f.files) for f in dup] == [["a.png", "b.tif"]]


def test_a_stack_of_mostly_flat_slices_is_checked_without_numpy_warnings(tmp_path: Path) -> None:
    """Slices of one value (std 0 over a non-zero p99) make the median of the faint-slice
    ratio 0; the check must neither print numpy's division warning nor flag those slices as
    faint against it (they are constant, a finding of their own)."""
    import warnings

    import numpy as np
    import tifffile
    from planted import scan

    stack = np.full((6, 16, 16), 100, dtype=np.uint16)
    stack[2] = np.random.default_rng(0).integers(50, 150, (16, 16))
    (tmp_path / "data" / "a").mkdir(parents=True)
    tifffile.imwrite(tmp_path / "data" / "a" / "flat.tif", stack, metadata={"axes": "ZYX"})
    report = scan(tmp_path / "data", tmp_path / "r.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        findings = api.check(report)
    assert [(f.id, f.severity, f.message) for f in findings] == [
        ("blank", "error", "5 slices in 1 file are constant (every pixel 100)")
    ]
