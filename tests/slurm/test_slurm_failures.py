"""Bad input and unsatisfiable requests end quickly, with one clear line and no job left."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from slurm_helpers import SMALL, our_jobs, run_slurm, wait_for_jobs

from pixel_patrol_slurm.launcher import CLOSE_TIMEOUT_S, GONE_TIMEOUT_S

SHUTDOWN_S = CLOSE_TIMEOUT_S + GONE_TIMEOUT_S + 30
"""How long a signalled launcher may take to exit: its cluster close and its wait for SLURM
to let go of the jobs are bounded by these two limits (a loaded machine can use them up),
plus its own start and exit."""

pytestmark = pytest.mark.slurm


def _as_from_a_terminal() -> None:
    """Ctrl-C as a terminal delivers it: a test run started in the background (CI runners,
    ``cmd &``) inherits SIGINT ignored, and Python keeps an ignored SIGINT ignored, so the
    launcher would never see the signal this test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)

QUICK_S = 30.0
"""Refused before any submission: only Python start-up and a few SLURM queries."""


def assert_refused(run_args: list[str], tmp_path: Path, code: int, text: str) -> None:
    run = run_slurm(run_args, cwd=tmp_path, timeout=120)
    assert run.code == code, run.stderr
    assert run.seconds < QUICK_S
    errors = run.error_lines()
    assert len(errors) == 1 and text in errors[0], run.stderr
    assert "Traceback" not in run.stderr
    assert our_jobs() == []
    assert not list(tmp_path.glob("**/*.err")), "a job was submitted"


@pytest.mark.timeout(120)
@pytest.mark.usefixtures("needs_process")
def test_bad_forwarded_option_is_refused_before_submitting(dataset: Path, tmp_path: Path) -> None:
    assert_refused(
        [*SMALL, "--", str(dataset), "-o", "r.parquet", "--no-such-option"],
        tmp_path,
        2,
        "--no-such-option",
    )


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("cluster_args", "text"),
    [
        (["--memory", "10000GB"], "is more than any node of partition"),
        (["--cores", "999"], "--cores 999 is more than any node"),
        (["--partition", "no-such-partition"], "partition 'no-such-partition' does not exist"),
        (["--job-extra=--constraint=no-such-feature"], "SLURM rejects the job request"),
    ],
    ids=["memory", "cores", "partition", "sbatch-test-only"],
)
def test_unsatisfiable_requests_are_refused_before_submitting(
    cluster_args: list[str], text: str, dataset: Path, tmp_path: Path
) -> None:
    args = [*SMALL, *cluster_args, "--", str(dataset), "-o", "r.parquet"]
    assert_refused(args, tmp_path, 2, text)


@pytest.mark.timeout(180)
@pytest.mark.usefixtures("needs_process")
def test_bad_argument_found_by_process_itself_ends_the_run(dataset: Path, tmp_path: Path) -> None:
    """An unknown loader passes the parser; ``process`` reports it and its exit code is kept."""
    run = run_slurm(
        [
            *SMALL,
            "--log-dir",
            str(tmp_path / "logs"),
            "--",
            str(dataset),
            "-o",
            "r.parquet",
            "--loader",
            "no-such-loader",
        ],
        cwd=tmp_path,
    )
    assert run.code == 2, run.stderr
    assert "no-such-loader" in run.stderr
    assert "Traceback" not in run.stderr
    assert run.seconds < 90
    assert our_jobs() == []


PENDING = [
    "--jobs",
    "2",
    "--cores",
    "2",
    "--memory",
    "1GB",
    "--min-workers",
    "2",
    "--walltime",
    "00:10:00",
    "--interface",
    "lo",
]
"""Two jobs wanting all CPUs of the two-CPU node: the second one pends (Resources)."""


@pytest.mark.timeout(180)
def test_waiting_too_long_reports_what_slurm_says(dataset: Path, tmp_path: Path) -> None:
    run = run_slurm(
        [
            *PENDING,
            "--wait",
            "10",
            "--log-dir",
            str(tmp_path / "logs"),
            "--",
            str(dataset),
            "-o",
            "r.parquet",
        ],
        cwd=tmp_path,
    )
    assert run.code == 1, run.stderr
    errors = run.error_lines()
    assert len(errors) == 1, run.stderr
    assert "of 2 worker(s) connected within 10 s; SLURM says: job" in errors[0]
    assert "PENDING" in errors[0]
    assert run.seconds < 60
    assert our_jobs() == []


@pytest.mark.timeout(180)
@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "Ctrl-C"]
)
def test_signal_while_waiting_cancels_the_jobs(
    sig: signal.Signals, code: int, dataset: Path, tmp_path: Path
) -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pixel_patrol_slurm",
            *PENDING,
            "--wait",
            "120",
            "--log-dir",
            str(tmp_path / "logs"),
            "--",
            str(dataset),
            "-o",
            "r.parquet",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_as_from_a_terminal,
    )
    try:
        assert wait_for_jobs(present=True, timeout=60), "no job was submitted"
        time.sleep(1)
        child.send_signal(sig)
        _, stderr = child.communicate(timeout=SHUTDOWN_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == code, stderr
    assert "the jobs were cancelled" in stderr
    assert "Traceback" not in stderr
    assert our_jobs() == []
