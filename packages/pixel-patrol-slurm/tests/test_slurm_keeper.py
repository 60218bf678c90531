"""Replacing jobs that ended (retired workers) while process runs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pixel_patrol_slurm import keeper as keeper_mod
from pixel_patrol_slurm.keeper import JobKeeper, ended_jobs


class FakeCluster:
    def __init__(self, ids: dict[str, str | None]) -> None:
        self.workers = {name: SimpleNamespace(job_id=job) for name, job in ids.items()}
        self.worker_spec: dict[str, Any] = {name: {} for name in ids}
        self.scaled: list[int] = []

    def scale(self, jobs: int) -> None:
        self.scaled.append(jobs)


def test_ended_jobs_are_submitted_ones_squeue_no_longer_lists() -> None:
    ids = {"a": "1", "b": "2", "c": None}
    assert ended_jobs(ids, {"2", "77"}) == ["a"]
    assert ended_jobs(ids, {"1", "2"}) == []


def test_tick_drops_ended_jobs_and_scales_back(monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = FakeCluster({"a": "1", "b": "2"})
    monkeypatch.setattr(keeper_mod.slurm, "live_job_ids", lambda: {"2"})
    keeper = JobKeeper(cluster, jobs=2)  # type: ignore[arg-type]
    keeper.tick()
    assert list(cluster.worker_spec) == ["b"]
    assert cluster.scaled == [2]
    assert keeper.seen == {"1", "2"}


def test_tick_does_nothing_when_squeue_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = FakeCluster({"a": "1"})
    monkeypatch.setattr(keeper_mod.slurm, "live_job_ids", lambda: None)
    JobKeeper(cluster, jobs=1).tick()  # type: ignore[arg-type]
    assert list(cluster.worker_spec) == ["a"]
    assert cluster.scaled == []


def test_replacements_stop_when_jobs_keep_dying(monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = FakeCluster({"a": "1"})
    monkeypatch.setattr(keeper_mod.slurm, "live_job_ids", lambda: set())
    keeper = JobKeeper(cluster, jobs=1)  # type: ignore[arg-type]
    keeper.replaced = keeper_mod.MAX_REPLACEMENTS_PER_JOB
    keeper.tick()
    assert cluster.scaled == []
