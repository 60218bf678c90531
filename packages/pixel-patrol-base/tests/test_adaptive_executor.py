"""The automatic executor stays in-process for cheap runs and forks workers for large ones."""

from __future__ import annotations

from typing import Any

import pytest

import pixel_patrol_base.pool as pool
from pixel_patrol_base import worker
from pixel_patrol_base.planning import BatchTask
from pixel_patrol_base.runner import SCALE_OUT_CPU_S, AdaptiveExecutor, WorkerPlan

PLAN = WorkerPlan(2, 2, 8.0, 1.0, "test")


class FakePool:
    """Records what would have run on workers."""

    def __init__(self, *args: Any) -> None:
        self.tasks: list[Any] = []

    def submit(self, fn: Any, task: Any, tag: Any) -> None:
        self.tasks.append(task)


def _run(task: BatchTask, ctx: Any) -> int:
    """A task of whole files: reports each one finished, as the worker does."""
    for _ in task.files:
        if worker._progress_hook is not None:
            worker._progress_hook(1)
    return len(task.files)


def _batch(n: int) -> BatchTask:
    return BatchTask(tuple(object() for _ in range(n)))  # type: ignore[arg-type,misc]


def _submit_ramp(ex: AdaptiveExecutor, sizes: tuple[int, ...]) -> None:
    for n in sizes:
        ex.submit(_run, _batch(n), n)


@pytest.fixture
def fake_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "LocalPool", FakePool)


@pytest.mark.usefixtures("fake_pool")
def test_cheap_run_stays_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    ex = AdaptiveExecutor(PLAN, None, queued=lambda: 1 + 4 + 8 + 16)
    monkeypatch.setattr(ex, "_per_file", lambda: SCALE_OUT_CPU_S / 100)  # 29 files: 0.29 s
    _submit_ramp(ex, (1, 4, 8, 16))
    assert ex.pool is None
    assert [ex.next_done()[1] for _ in range(4)] == [1, 4, 8, 16]


@pytest.mark.usefixtures("fake_pool")
def test_costly_run_scales_out_after_the_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    ex = AdaptiveExecutor(PLAN, None, queued=lambda: 1 + 4 + 8 + 200)
    monkeypatch.setattr(ex, "_per_file", lambda: SCALE_OUT_CPU_S / 100)  # 208 files left: 2.08 s
    _submit_ramp(ex, (1, 4, 8, 200))
    assert ex.pool is not None
    assert [len(t.files) for t in ex.pool.tasks] == [8, 200]  # the two probes ran here


@pytest.mark.usefixtures("fake_pool")
def test_unknown_total_or_workers_asked_for_scale_out_at_once() -> None:
    for queued in (lambda: None, None):
        ex = AdaptiveExecutor(PLAN, None, queued=queued)
        _submit_ramp(ex, (1, 4))
        assert ex.pool is not None and [len(t.files) for t in ex.pool.tasks] == [4]


def test_per_file_estimate_is_the_median_after_the_first_file() -> None:
    ex = AdaptiveExecutor(PLAN, None, queued=lambda: 10)
    ex.inline.file_cpu = [0.5, 0.3, 0.01, 0.012, 0.011]  # readers, a new pixel type, then steady
    assert ex._per_file() == pytest.approx(0.0115)
