"""A real run on SLURM gives the same report as a local run and leaves no job behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from slurm_helpers import SMALL, our_jobs, run_slurm, wait_for_jobs

pytestmark = [pytest.mark.slurm, pytest.mark.usefixtures("needs_process")]

LOADER = "bioio"
VOLATILE_KEYS = ("created_at", "processing_stats")
"""Footer entries that record when and how fast a run went, not what it found."""


def without_scheduler(value: Any) -> Any:
    """Drop ``scheduler`` entries: the address differs by design between the two runs."""
    if isinstance(value, dict):
        return {k: without_scheduler(v) for k, v in value.items() if k != "scheduler"}
    return value


def comparable_metadata(meta: dict[bytes, bytes] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in (meta or {}).items():
        name = key.decode()
        if any(v in name for v in VOLATILE_KEYS):
            continue
        try:
            out[name] = without_scheduler(json.loads(raw))
        except ValueError:
            out[name] = raw
    return out


def assert_same_report(local: Path, remote: Path) -> None:
    import pyarrow.parquet as pq

    a, b = pq.read_table(local), pq.read_table(remote)
    assert comparable_metadata(a.schema.metadata) == comparable_metadata(b.schema.metadata)
    fields = lambda t: {(f.name, str(f.type), str(f.metadata)) for f in t.schema}  # noqa: E731
    assert fields(a) == fields(b)
    rows = lambda t: sorted(t.to_pylist(), key=repr)  # noqa: E731
    assert a.num_rows == b.num_rows > 0
    assert rows(a) == rows(b)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("with_loader", [False, True], ids=["no-loader", "loader"])
def test_report_equals_the_local_run(dataset: Path, tmp_path: Path, with_loader: bool) -> None:
    extra: list[str] = []
    if with_loader:
        extra = ["--loader", LOADER]
    local = tmp_path / "local.parquet"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pixel_patrol_base",
            "process",
            str(dataset),
            "-o",
            str(local),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr

    remote = tmp_path / "r.parquet"
    run = run_slurm(
        [
            *SMALL,
            "--log-dir",
            str(tmp_path / "logs"),
            "--",
            str(dataset),
            "-o",
            str(remote),
            *extra,
        ],
        cwd=tmp_path,
    )
    assert run.code == 0, run.stderr
    assert "worker(s) connected" in run.stderr
    assert our_jobs() == []
    assert_same_report(local, remote)


@pytest.mark.timeout(300)
def test_one_job_with_two_worker_processes(dataset: Path, tmp_path: Path) -> None:
    """Grouped workers (two per job) connect and the run completes."""
    remote = tmp_path / "r.parquet"
    run = run_slurm(
        [
            "--jobs",
            "1",
            "--cores",
            "2",
            "--processes",
            "2",
            "--memory",
            "2GB",
            "--min-workers",
            "2",
            "--walltime",
            "00:10:00",
            "--interface",
            "lo",
            "--log-dir",
            str(tmp_path / "logs"),
            "--",
            str(dataset),
            "-o",
            str(remote),
        ],
        cwd=tmp_path,
    )
    assert run.code == 0, run.stderr
    assert "2 worker(s) connected" in run.stderr
    assert wait_for_jobs(present=False, timeout=5) == []
