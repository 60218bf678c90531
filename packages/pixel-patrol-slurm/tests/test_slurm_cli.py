"""The command line: one stderr line and the right exit code for every bad input.

SLURM's tools are replaced by small shell scripts on PATH, so these run anywhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pixel_patrol_slurm.cli import run_cli

FAKE_SINFO = "#!/bin/sh\necho 'debug*|2|24105|up'\necho 'big|64|512000|up'\n"
FAKE_SBATCH_OK = "#!/bin/sh\necho 'sbatch: Job 7 to start at now' >&2\nexit 0\n"
FAKE_SBATCH_REJECT = (
    "#!/bin/sh\necho 'sbatch: error: Batch job submission failed: "
    "Invalid account or account/partition combination specified' >&2\nexit 1\n"
)


def fake_tools(tmp_path: Path, **scripts: str) -> Path:
    """Write executable stand-ins for SLURM commands into a directory for PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text(body)
        path.chmod(0o755)
    return bin_dir


@pytest.fixture
def only_fake_slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH holds only the fake SLURM tools (the real ones must never be reached)."""
    bin_dir = fake_tools(tmp_path, sinfo=FAKE_SINFO, sbatch=FAKE_SBATCH_OK)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.chdir(tmp_path)
    return bin_dir


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("pixel-patrol-slurm: error: ")
    assert "Traceback" not in err[0]
    return err[0]


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["--jobs", "2", "data", "-o", "r.parquet"], "missing '--'"),
        (["--jobs", "2", "--"], "nothing after '--'"),
        (["--jobs", "x", "--", "data"], "Invalid value for '--jobs'"),
        (["--bogus", "--", "data"], "No such option"),
        (["--cores", "0", "--", "data"], "--cores must be at least 1"),
        (["--walltime", "2 hours", "--", "data"], "--walltime"),
        (["--", "data", "-o", "r", "--scheduler", "tcp://x:1"], "remove --scheduler"),
        (["--interface", "no-such-if0", "--", "data", "-o", "r"], "--interface"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    argv: list[str], text: str, capsys: pytest.CaptureFixture[str], only_fake_slurm: Path
) -> None:
    assert run_cli(argv) == 2
    assert text in one_error_line(capsys)


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--jobs", "--job-extra", "--prologue", "--min-workers", "--dry-run"):
        assert option in out


def test_dry_run_prints_script_and_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = run_cli(
        [
            "--jobs",
            "2",
            "--cores",
            "1",
            "--log-dir",
            str(tmp_path / "logs"),
            "--dry-run",
            "--",
            "my data",
            "-o",
            "r.parquet",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "#SBATCH -J pixel-patrol-" in out
    assert "#SBATCH --cpus-per-task=1" in out
    assert "submitted 2 time(s)" in out
    assert (
        f"{sys.executable} -m pixel_patrol_base process 'my data' -o r.parquet "
        "--scheduler 'tcp://<scheduler-address>:8786'"
    ) in out


def test_no_sbatch_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(fake_tools(tmp_path)))
    assert run_cli(["--", "data", "-o", "r.parquet"]) == 1
    assert "sbatch not found on PATH" in one_error_line(capsys)


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["--partition", "nope"], "partition 'nope' does not exist (available: debug, big)"),
        (["--cores", "8"], "--cores 8 is more than any node of partition 'debug' has (2 CPUs)"),
        (["--cores", "1", "--memory", "10000GB"], "--memory 10000GB"),
        (["--cores", "65", "--partition", "big"], "(64 CPUs)"),
    ],
)
def test_requests_checked_against_sinfo(
    argv: list[str], text: str, only_fake_slurm: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli([*argv, "--", "data", "-o", "r.parquet"]) == 2
    assert text in one_error_line(capsys)


def test_sbatch_test_only_rejection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bin_dir = fake_tools(tmp_path, sinfo=FAKE_SINFO, sbatch=FAKE_SBATCH_REJECT)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.chdir(tmp_path)
    code = run_cli(["--cores", "1", "--account", "nobody", "--", "data", "-o", "r.parquet"])
    assert code == 2
    assert "SLURM rejects the job request: Invalid account" in one_error_line(capsys)


def test_unreachable_controller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sinfo = (
        "#!/bin/sh\necho 'sinfo: error: Unable to contact slurm controller "
        "(connect failure)' >&2\nexit 1\n"
    )
    monkeypatch.setenv("PATH", str(fake_tools(tmp_path, sinfo=sinfo, sbatch=FAKE_SBATCH_OK)))
    assert run_cli(["--", "data", "-o", "r.parquet"]) == 1
    assert "no SLURM controller reachable: Unable to contact" in one_error_line(capsys)


def test_bad_forwarded_argument_is_caught_before_slurm(
    only_fake_slurm: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pixel_patrol_slurm.precheck import process_click_command

    assert process_click_command() is not None
    (only_fake_slurm / "sbatch").write_text("#!/bin/sh\necho called >&2\nexit 99\n")
    assert run_cli(["--cores", "1", "--", "data", "-o", "r.parquet", "--no-such-option"]) == 2
    line = one_error_line(capsys)
    assert "bad argument for pixel-patrol process" in line and "--no-such-option" in line


def test_console_entry_point_in_a_fresh_interpreter(tmp_path: Path) -> None:
    """Real exit code and stderr, and --help does not import Dask (it must stay instant)."""
    env = {**os.environ, "PATH": str(fake_tools(tmp_path))}
    done = subprocess.run(
        [sys.executable, "-m", "pixel_patrol_slurm", "data"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("pixel-patrol-slurm: error: missing '--'")
    probe = (
        "import sys\nfrom pixel_patrol_slurm.cli import run_cli\nrun_cli(['--help'])\n"
        "print('HEAVY', sorted(m for m in ('distributed', 'dask_jobqueue') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert "HEAVY []" in done.stdout
