"""`pixel-patrol check` as people and pipelines use it: exit codes, JSON, terminal and pipe."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pixel_patrol_base.findings.engine import known_rules

ANSI = "\x1b["


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command in its own process, output to a pipe."""
    return subprocess.run(
        [sys.executable, "-m", "pixel_patrol_base", *args], capture_output=True, text=True, timeout=120
    )


def inproc(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """The same command line run in this process (faster; stdout is not a terminal)."""
    from pixel_patrol_base.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["check", *args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, int(exit_info.value.code or 0), out, err)


def test_exit_codes_follow_fail_on(
    clean_report: Path, planted_report: tuple[Path, Any, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    planted = str(planted_report[0])
    assert cli("check", str(clean_report)).returncode == 0
    assert inproc(capsys, str(clean_report), "--fail-on", "info").returncode == 0
    assert inproc(capsys, planted).returncode == 1
    assert inproc(capsys, planted, "--fail-on", "warning", "--min-severity", "error").returncode == 1


def test_only_info_findings_pass_unless_fail_on_info(
    tmp_path: Path, planted_report: tuple[Path, Any, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    table = pq.read_table(planted_report[0])
    keep = [p.endswith("low-range/dim.ome.tif") or "/low-range/" in p for p in table.column("imported_path").to_pylist()]
    pq.write_table(table.filter(pa.array(keep)), tmp_path / "one.parquet")
    res = inproc(capsys, str(tmp_path / "one.parquet"), "--json", str(tmp_path / "f.json"))
    doc = json.loads((tmp_path / "f.json").read_text())
    assert {f["severity"] for f in doc["findings"]} == {"info"}, doc["findings"]
    assert res.returncode == 0
    assert inproc(capsys, str(tmp_path / "one.parquet"), "--fail-on", "info").returncode == 1


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda d: d / "missing.parquet", "no such report file"),
        (lambda d: (d / "text.parquet").write_text("not parquet") and d / "text.parquet", "not a readable Parquet file"),
        (lambda d: pq.write_table(pa.table({"x": [1]}), d / "other.parquet") or d / "other.parquet", "not a Pixel Patrol report"),
    ],
    ids=["missing", "not-parquet", "not-a-report"],
)
def test_bad_report_is_one_line_and_exit_2(tmp_path: Path, make: Any, needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = make(tmp_path)
    res = inproc(capsys, str(path))
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and needle in lines[0], res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ('[dataset]\ndtyp = "uint16"\n', "dataset.dtyp: unknown key"),
        ("[dataset]\nchannels = \"three\"\n", "dataset.channels: expected an integer or [min, max]"),
        ("[dataset.size]\nW = 5\n", "dataset.size.W: unknown key"),
        ("[thresholds.clipped]\nerror = \"1%\"\n", "thresholds.clipped.error: expected float"),
        ("[thresholds.blury]\nmodz = -3\n", "thresholds.blury: unknown key"),
        ("[conditions.control.thresholds.outlier]\nmetrics = 3\n", "conditions.control.thresholds.outlier.metrics: expected list[str]"),
        ("[dataset\n", "not valid TOML"),
        ("version = 2\n", "version: only version 1"),
    ],
)
def test_bad_expectations_file_is_one_line_naming_file_and_key(
    clean_report: Path, tmp_path: Path, toml: str, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    exp = tmp_path / "expect.toml"
    exp.write_text(toml)
    res = inproc(capsys, str(clean_report), "--expect", str(exp))
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 1, res.stderr
    assert str(exp) in lines[0] and needle in lines[0], lines[0]


def test_bad_option_value_exits_2(clean_report: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = inproc(capsys, str(clean_report), "--fail-on", "fatal")
    assert res.returncode == 2 and "--fail-on" in res.stderr


def test_json_is_the_documented_contract(
    planted_report: tuple[Path, Any, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "findings.json"
    res = inproc(capsys, str(planted_report[0]), "--json", str(out), "--min-severity", "warning")
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "pixel-patrol-findings" and doc["version"] == 1
    assert set(doc) == {"format", "version", "summary", "counts", "skipped", "findings"}
    assert doc["counts"]["error"] >= 1 and doc["counts"]["info"] >= 1
    assert {f["severity"] for f in doc["findings"]} <= {"error", "warning"}
    for f in doc["findings"]:
        assert set(f) == {"id", "severity", "scope", "condition", "message", "action", "value", "threshold", "files", "rows", "evidence"}
        assert f["id"] in known_rules() and f["scope"] in ("dataset", "condition", "file", "image", "slice")
        for row in f["rows"]:
            assert set(row) <= {"imported_path", "child_id", "dim_z", "dim_t", "dim_c", "dim_s"} and row["imported_path"] in f["files"]
        assert not f["evidence"] or len(f["evidence"]) == len(f["rows"])
    clipped = next(f for f in doc["findings"] if f["id"] == "clipped" and f["value"] > 0.05)
    assert clipped["threshold"] == 0.01 and clipped["files"][0].endswith("saturated.ome.tif")
    assert res.returncode == 1


def test_pipe_output_is_plain_whole_lines(planted_report: tuple[Path, Any, Path]) -> None:
    res = cli("check", str(planted_report[0]))
    out = res.stdout
    assert ANSI not in out
    assert out.splitlines()[0].startswith("pixel-patrol check ")
    blocks = [line for line in out.splitlines() if line[:1].isupper() and line.split()[0] in ("ERROR", "WARNING", "INFO")]
    assert blocks[0].startswith("ERROR") and any(b.startswith("INFO") for b in blocks)
    dup = next(i for i, line in enumerate(out.splitlines()) if line.startswith("ERROR") and " duplicate " in line)
    assert "blurry/cells_03.ome.tif" in out.splitlines()[dup] and "duplicate/from_blurry.ome.tif" in out.splitlines()[dup]
    assert max(len(line) for line in out.splitlines()) > 120  # no wrapping to an assumed width


def _run_in_pty(args: list[str], columns: int) -> tuple[int, str]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def test_terminal_output_is_a_coloured_table_fitting_the_window(planted_report: tuple[Path, Any, Path]) -> None:
    code, out = _run_in_pty([sys.executable, "-m", "pixel_patrol_base", "check", str(planted_report[0])], 100)
    assert code == 1
    assert ANSI in out
    import re

    plain = re.sub(r"\x1b\[[0-9;]*m", "", out).replace("\r", "")
    lines = plain.splitlines()
    assert max(len(line) for line in lines) <= 100
    head = next(line for line in lines if "severity" in line)
    for column in ("finding", "where", "evidence", "what to do"):
        assert column in head
    assert plain.index("error") < plain.index("warning") < plain.rindex("info")
