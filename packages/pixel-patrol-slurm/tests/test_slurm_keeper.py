"""Replacing jobs that ended (retired workers) while process runs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pixel_patrol_slurm import keeper as keeper_mod
from pixel_patrol_slurm.keeper import JobKeeper, ended_jobs


class FakeCluster:
    """Just enough of a SpecCluster: names are drawn like Dask does, callbacks run at once."""

    def __init__(self, ids: dict[str, str | None]) -> None:
        self.workers = {name: SimpleNamespace(job_id=job) for name, job in ids.items()}
        self.worker_spec: dict[str, Any] = {name: {} for name in ids}
        self.scaled: list[int] = []
        self.loop = SimpleNamespace(add_callback=lambda fn: fn())
        self._i = 0

    def new_worker_spec(self) -> dict[str, Any]:
        while f"w{self._i}" in self.worker_spec:
            self._i += 1
        return {f"w{self._i}": {}}

    def scale(self, jobs: int) -> None:
        self.scaled.append(jobs)


def test_ended_jobs_are_submitted_ones_squeue_no_longer_lists() -> None:
    ids = {"a": "1", "b": "2", "c": None}
    assert ended_jobs(ids, {"2", "77"}) == ["a"]
    assert ended_jobs(ids, {"1", "2"}) == []


def test_ended_jobs_are_swapped_for_fresh_names(monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = FakeCluster({"w0": "1", "w1": "2", "w2": "3"})
    monkeypatch.setattr(keeper_mod.slurm, "live_job_ids", lambda: {"2"})
    keeper = JobKeeper(cluster, jobs=3)  # type: ignore[arg-type]
    keeper.tick()
    assert sorted(cluster.worker_spec) == ["w1", "w3", "w4"]
    assert sorted(cluster.workers) == ["w1"]
    assert cluster.scaled == [3]
    assert keeper.seen == {"1", "2", "3"}
    assert keeper.replaced == 2


def test_tick_scales_even_without_an_ended_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dask drops a job whose worker left; scale() resubmits what the spec still holds."""
    cluster = FakeCluster({"w0": "1"})
    monkeypatch.setattr(keeper_mod.slurm, "live_job_ids", lambda: {"1"})
    JobKeeper(cluster, jobs=1).tick()  # type: ignore[arg-type]
    assert list(cluster.worker_spec) == ["w0"]
    assert cluster.scaled == [1]


def test_nothing_is_swapped_when_squeue_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = FakeCluster({"w0": "1"})
    monkeypatch.setattr(keeper_mod.slurm, "live_job_ids", lambda: None)
    JobKeeper(cluster, jobs=1).tick()  # type: ignore[arg-type]
    assert list(cluster.worker_spec) == ["w0"]
    assert list(cluster.workers) == ["w0"]


def test_replacements_stop_when_jobs_keep_dying(monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = FakeCluster({"w0": "1"})
    monkeypatch.setattr(keeper_mod.slurm, "live_job_ids", lambda: set())
    keeper = JobKeeper(cluster, jobs=1)  # type: ignore[arg-type]
    keeper.replaced = keeper_mod.MAX_REPLACEMENTS_PER_JOB
    keeper.tick()
    assert list(cluster.worker_spec) == ["w0"]
