"""The console entry exits quickly, and still does everything an exit must do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

COMMAND = """
import atexit, sys
from pathlib import Path
from pixel_patrol_base.quick_exit import run_then_exit

def clean_up():
    Path(sys.argv[1]).write_text("cleaned")

def command():
    atexit.register(clean_up)
    sys.stdout.write("no newline, still buffered")
    {finish}

run_then_exit(command)
print("never reached")
"""


def _run(finish: str, marker: Path) -> subprocess.CompletedProcess[str]:
    code = COMMAND.replace("{finish}", finish)
    return subprocess.run(
        [sys.executable, "-c", code, str(marker)], capture_output=True, text=True, check=False
    )


def test_a_command_that_returns_exits_0_with_its_output_flushed_and_clean_ups_run(
    tmp_path: Path,
) -> None:
    out = _run("pass", tmp_path / "m")
    assert (out.returncode, out.stdout, out.stderr) == (0, "no newline, still buffered", "")
    assert (tmp_path / "m").read_text() == "cleaned"


def test_sys_exit_statuses_are_kept(tmp_path: Path) -> None:
    assert _run("sys.exit(3)", tmp_path / "a").returncode == 3
    assert _run("sys.exit(None)", tmp_path / "b").returncode == 0
    message = _run("sys.exit('bad input')", tmp_path / "c")
    assert (message.returncode, message.stderr) == (1, "bad input\n")
    assert (tmp_path / "c").read_text() == "cleaned"


def test_an_unexpected_error_takes_pythons_normal_exit(tmp_path: Path) -> None:
    out = _run("raise RuntimeError('boom')", tmp_path / "m")
    assert out.returncode == 1
    assert "RuntimeError: boom" in out.stderr
    assert "never reached" not in out.stdout
    assert (tmp_path / "m").read_text() == "cleaned"


def test_the_module_entry_exits_with_the_command_status(tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "pixel_patrol_base", "--version"],
        capture_output=True, text=True, check=False,
    )
    assert ok.returncode == 0 and ok.stdout.startswith("pixel-patrol ")
    missing = subprocess.run(
        [sys.executable, "-m", "pixel_patrol_base", "process", str(tmp_path / "none"),
         "-o", str(tmp_path / "r.parquet")],
        capture_output=True, text=True, check=False,
    )
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr
