"""Cleanup guarantees of the launcher, with fakes instead of SLURM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest

from pixel_patrol_slurm import launcher
from pixel_patrol_slurm.errors import LaunchError
from pixel_patrol_slurm.keeper import JobKeeper


class BrokenCluster:
    """A cluster whose graceful close fails: the jobs must still be cancelled."""

    def __init__(self) -> None:
        self.workers = {"w0": SimpleNamespace(job_id="41"), "w1": SimpleNamespace(job_id=None)}
        self.closed = False

    def close(self, timeout: float | None = None) -> None:
        self.closed = True
        raise OSError("scheduler gone")


@pytest.fixture
def cancelled(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []
    monkeypatch.setattr(launcher.slurm, "cancel", lambda ids, name: calls.append((set(ids), name)))
    monkeypatch.setattr(launcher.slurm, "wait_until_gone", lambda ids, timeout: set())
    return calls


def test_shutdown_cancels_even_when_close_fails(cancelled: list[Any]) -> None:
    cluster = BrokenCluster()
    keeper = JobKeeper(cluster, jobs=2)  # type: ignore[arg-type]
    keeper.seen.add("40")  # a job replaced earlier
    launcher.shutdown(cluster, keeper, "pixel-patrol-abc")  # type: ignore[arg-type]
    assert cluster.closed
    assert cancelled == [({"40", "41"}, "pixel-patrol-abc")]


def test_shutdown_before_the_cluster_existed_still_cancels_by_name(cancelled: list[Any]) -> None:
    launcher.shutdown(None, None, "pixel-patrol-abc")
    assert cancelled == [(set(), "pixel-patrol-abc")]


def test_shutdown_warns_when_jobs_remain(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(launcher.slurm, "cancel", lambda ids, name: None)
    monkeypatch.setattr(launcher.slurm, "wait_until_gone", lambda ids, timeout: {"41"})
    launcher.shutdown(None, None, "n")
    assert "still lists job(s) 41" in capsys.readouterr().err


def test_shutdown_survives_a_missing_scancel(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(ids: object, name: str) -> None:
        raise LaunchError("scancel not found on PATH")

    monkeypatch.setattr(launcher.slurm, "cancel", fail)
    launcher.shutdown(None, None, "pixel-patrol-abc")
    assert "check with squeue -n pixel-patrol-abc" in capsys.readouterr().err


def test_sigterm_becomes_an_exception_so_finally_blocks_run() -> None:
    ran_finally = False
    with pytest.raises(launcher.Terminated) as info, launcher.signals_as_exceptions():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            signal.sigtimedwait([], 0.1) if hasattr(signal, "sigtimedwait") else None
        finally:
            ran_finally = True
    assert ran_finally
    assert info.value.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is not launcher._raise_terminated


def test_cleanup_ignores_a_second_interrupt() -> None:
    before = signal.getsignal(signal.SIGINT)
    with launcher.signals_ignored():
        os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before


def test_interrupted_run_stops_the_process_child(monkeypatch: pytest.MonkeyPatch) -> None:
    children: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def popen(cmd: list[str]) -> subprocess.Popen[bytes]:
        children.append(real_popen(cmd))
        return children[-1]

    class InterruptingKeeper:
        def tick(self) -> None:
            raise KeyboardInterrupt

    monkeypatch.setattr(launcher.subprocess, "Popen", popen)
    monkeypatch.setattr(launcher, "KEEP_INTERVAL_S", 0.2)
    with pytest.raises(KeyboardInterrupt):
        launcher.run_process(
            [sys.executable, "-c", "import time; time.sleep(60)"], InterruptingKeeper()
        )  # type: ignore[arg-type]
    assert children[0].poll() is not None


def test_run_process_returns_the_exit_code() -> None:
    keeper = SimpleNamespace(tick=lambda: None)
    code = launcher.run_process([sys.executable, "-c", "raise SystemExit(3)"], keeper)  # type: ignore[arg-type]
    assert code == 3


def test_a_failed_sbatch_stops_the_wait_with_its_reason(tmp_path: Any) -> None:
    error = (
        "Command exited with non-zero exit code.\nExit code: 1\nCommand:\nsbatch /tmp/x.sh\n"
        "stdout:\n\nstderr:\nsbatch: error: Batch job submission failed: "
        "Invalid qos specification\n"
    )
    cluster = SimpleNamespace(workers={"w0": SimpleNamespace(job_id=None, submit_error=error)})
    keeper = JobKeeper(cluster, jobs=1)  # type: ignore[arg-type]
    options = SimpleNamespace(log_dir=tmp_path)
    with pytest.raises(LaunchError, match=r"^sbatch failed: Invalid qos specification$"):
        launcher._fail_if_hopeless(cluster, keeper, options)  # type: ignore[arg-type]


def test_jobs_that_all_ended_stop_the_wait_with_the_worker_error(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pixel-patrol-abc-7.err").write_text(
        "INFO start\nModuleNotFoundError: No module named 'distributed'\n"
    )
    cluster = SimpleNamespace(workers={"w0": SimpleNamespace(job_id="7")})
    keeper = JobKeeper(cluster, jobs=1)  # type: ignore[arg-type]
    keeper.remember()
    monkeypatch.setattr(launcher.slurm, "live_job_ids", lambda: set())
    monkeypatch.setattr(
        launcher.slurm, "describe_jobs", lambda ids: "job 7 FAILED (NonZeroExitCode)"
    )
    options = SimpleNamespace(log_dir=tmp_path)
    with pytest.raises(LaunchError) as info:
        launcher._fail_if_hopeless(cluster, keeper, options)  # type: ignore[arg-type]
    assert "all jobs ended before enough workers connected" in info.value.message
    assert "job 7 FAILED" in info.value.message
    assert "No module named 'distributed'" in info.value.message


def test_live_jobs_keep_the_wait_going(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = SimpleNamespace(workers={"w0": SimpleNamespace(job_id="7")})
    monkeypatch.setattr(launcher.slurm, "live_job_ids", lambda: {"7"})
    keeper = JobKeeper(cluster, jobs=1)  # type: ignore[arg-type]
    launcher._fail_if_hopeless(cluster, keeper, SimpleNamespace(log_dir=tmp_path))  # type: ignore[arg-type]
