"""The Dask edge (runner.py): worker planning and the executors' shared interface.

Each executor must hand back every submitted task exactly once as ``(tag, result, exception)``
and never raise a task's exception itself: the coordinator decides what a failure means.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixel_patrol_base import runner, worker
from pixel_patrol_base.errors import PixelPatrolError
from pixel_patrol_base.runner import AdaptiveExecutor, DaskExecutor, InlineExecutor, plan_workers


def machine(monkeypatch: pytest.MonkeyPatch, cpus: int, avail_mb: float) -> None:
    monkeypatch.setattr(runner.os, "sched_getaffinity", lambda _pid: set(range(cpus)), raising=False)
    memory = {"available": avail_mb * 2**20, "total": 2 * avail_mb * 2**20}
    monkeypatch.setattr(runner, "_memory_bytes", memory.__getitem__)


@given(
    cpus=st.integers(1, 64),
    avail_mb=st.floats(100, 2_000_000),
    mb_per_task=st.floats(1, 100_000),
    max_workers=st.none() | st.integers(1, 100),
)
def test_plan_workers_is_the_smallest_of_cpus_ram_and_the_cap(
    cpus: int, avail_mb: float, mb_per_task: float, max_workers: int | None
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        machine(mp, cpus, avail_mb)
        plan = plan_workers(mb_per_task, max_workers)
    need = runner.BASE_WORKER_MB + runner.BUDGET_MULTIPLE * mb_per_task
    by_ram = max(1, math.floor(0.8 * avail_mb / need))
    assert plan.n_workers == min(cpus, by_ram, max_workers or cpus) >= 1
    assert plan.cpus == cpus and plan.per_worker_gb == pytest.approx(need / 1024)
    capped = max_workers is not None and max_workers < min(cpus, by_ram)
    assert ("capped by --max-workers" in plan.reason) == capped
    assert ("RAM is the limit" in plan.reason) == (not capped and by_ram < cpus)


def double(task: int, context: Any) -> int:
    if task < 0:
        raise ValueError(f"negative task {task}")
    for _ in range(task):  # a batch reports each finished file
        if worker._progress_hook is not None:
            worker._progress_hook(1)
    return 2 * task + context


def test_inline_executor_runs_in_order_and_hands_back_failures() -> None:
    files: list[int] = []
    ex = InlineExecutor(context=100, on_file=lambda: files.append(1))
    for tag, task in [("a", 3), ("b", -1), ("c", 0)]:
        ex.submit(double, task, tag)
    assert ex.files_in_flight() == 0  # counts only inside a running task
    assert ex.next_done() == ("a", 106, None)
    tag, result, exc = ex.next_done()
    assert (tag, result, type(exc), str(exc)) == ("b", None, ValueError, "negative task -1")
    assert ex.next_done() == ("c", 100, None)
    assert len(files) == 3 and worker._progress_hook is None
    assert ex.cpu_s >= 0.0


class FakePool:
    """Stands in for the forked workers: runs tasks when asked for a result."""

    started: ClassVar[list[FakePool]] = []

    def __init__(self, n: int, context: Any, timeout: Any, limit: int, on_file: Any) -> None:
        self.n, self.context, self.queue, self.closed = n, context, [], False
        FakePool.started.append(self)

    def submit(self, fn: Any, task: Any, tag: Any) -> None:
        self.queue.append((fn, task, tag))

    def files_in_flight(self) -> int:
        return 0

    def next_done(self) -> Any:
        fn, task, tag = self.queue.pop(0)
        return tag, fn(task, self.context), None

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakePool]]:
    from pixel_patrol_base import pool

    FakePool.started = []
    monkeypatch.setattr(pool, "LocalPool", FakePool)
    yield FakePool


def test_adaptive_runs_the_first_task_here_and_forks_only_when_more_work_waits(
    fake_pool: type[FakePool],
) -> None:
    plan = runner.WorkerPlan(3, 4, 8.0, 1.0, "test")
    ex = AdaptiveExecutor(plan, context=1)
    ex.submit(double, 5, "first")
    assert fake_pool.started == [] and ex.pool is None  # one task: no worker is started
    ex.submit(double, 1, "second")
    ex.submit(double, 2, "third")
    assert len(fake_pool.started) == 1 and fake_pool.started[0].n == 3
    assert [ex.next_done() for _ in range(3)] == [("first", 11, None), ("second", 3, None), ("third", 5, None)]
    ex.close()
    assert fake_pool.started[0].closed and ex.pool is None


def test_adaptive_with_a_single_task_never_starts_workers(fake_pool: type[FakePool]) -> None:
    ex = AdaptiveExecutor(runner.WorkerPlan(2, 2, 8.0, 1.0, "test"), context=0)
    ex.submit(double, -4, "only")
    tag, result, exc = ex.next_done()
    assert (tag, result, isinstance(exc, ValueError)) == ("only", None, True)
    ex.close()
    assert fake_pool.started == []


# distributed's in-process cluster leaves some comm sockets to the garbage collector; they are
# collected at the end of this test (not in a later one) and their warnings ignored here only.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_dask_executor_hands_back_results_and_failures() -> None:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster, Client(
        cluster, set_as_default=False
    ) as client:
        ex = DaskExecutor(client, context=10, kind="test")
        assert ex.n_workers == 1 and ex.files_in_flight() == 0
        for tag, task in [("a", 1), ("b", -2), ("c", 4)]:
            ex.submit(double, task, tag)
        got = {}
        for _ in range(3):
            tag, result, exc = ex.next_done()
            got[tag] = (result, type(exc).__name__ if exc else None)
        assert got == {"a": (12, None), "b": (None, "ValueError"), "c": (18, None)}
        assert ex._running == {}
        ex.close()  # not owned: the cluster is left running
        assert client.status == "running"
    gc.collect()


def test_active_client_is_none_without_one() -> None:
    assert runner.active_client() is None


def test_connect_to_a_scheduler_that_is_not_there_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import distributed

    def refuse(address: str, **_kw: Any) -> None:  # what Client raises after its 30 s timeout
        raise OSError(f"Timed out trying to connect to {address}")

    monkeypatch.setattr(distributed, "Client", refuse)
    with pytest.raises(PixelPatrolError) as info:
        runner.connect("tcp://127.0.0.1:9", context=None)
    assert str(info.value).startswith("cannot reach the Dask scheduler at tcp://127.0.0.1:9 (Timed out")
    assert str(info.value).endswith("check --scheduler and that the scheduler is running")
