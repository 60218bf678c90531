"""Flow under any completion order and any failures: a stateful hypothesis test.

The machine holds a real run's task queue. Each step takes any pending task and either runs
it (``tasks.execute``, in this process) and hands the result to :class:`Flow`, or reports it
failed. Whatever the order and failures: no task is lost, every file is completed exactly once
and only when all its images have rows, a batch failure is split into single files, an isolated
task gets ``ATTEMPTS`` tries before it becomes an error row, and every image without an error
has exactly the statistics numpy gives for its pixels (chunked images included).
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from plugin_fixtures import NpyLoader

from pixel_patrol_base.discovery import FileEntry
from pixel_patrol_base.flow import ATTEMPTS, Flow
from pixel_patrol_base.planning import BatchTask, ChunkTask, FileRef
from pixel_patrol_base.processors.raster_basic import RasterBasic
from pixel_patrol_base.processors.raster_histogram import RasterHistogram
from pixel_patrol_base.schema import report_columns, to_schema
from pixel_patrol_base.tasks import execute
from pixel_patrol_base.worker import WorkContext

BUDGET = 4_000
"""Bytes per task: the two largest images (6,000 and 9,600 bytes) are cut into chunks."""

SHAPES = [(6, 7), (60, 50), (3, 5, 6), (9, 4), (3, 40, 40)]


def _context() -> WorkContext:
    loader = NpyLoader()
    procs = (RasterBasic(), RasterHistogram())
    slice_size: dict[str, int] = {}
    return WorkContext(
        loader=loader,
        processors=procs,
        slice_size=slice_size,
        schema=to_schema(report_columns(loader, procs, slice_size)),
        omit_base_dir=False,
        budget_bytes=BUDGET,
        max_images=200,
    )


class FlowMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="flow-"))
        rng = np.random.default_rng(3)
        self.pixels: dict[str, np.ndarray] = {}
        refs = []
        for i, shape in enumerate(SHAPES):
            path = self.folder / f"f{i}.npy"
            arr = rng.integers(0, 5000, shape).astype(np.uint16)
            np.save(path, arr)
            self.pixels[str(path)] = arr
            entry = FileEntry(str(path), str(self.folder), "", path.stat().st_size, 0)
            refs.append(FileRef(i, entry))
        self.ctx = _context()
        self.flow = Flow(self.ctx)
        self.pending: list[Any] = [BatchTask(tuple(refs[:3])), BatchTask(tuple(refs[3:]))]
        self.tables: list[pa.Table] = []
        self.completed: Counter[str] = Counter()
        self.failures: Counter[Any] = Counter()

    def _take(self, pick: int) -> Any:
        return self.pending.pop(pick % len(self.pending))

    def _apply(self, out: Any) -> None:
        self.tables += out.tables
        self.completed.update(out.completed)
        self.pending += out.tasks

    def run_task(self, pick: int) -> None:
        task = self._take(pick)
        self._apply(self.flow.done(task, execute(task, self.ctx)))

    def fail_task(self, pick: int) -> None:
        task = self._take(pick)
        out = self.flow.failed(task, MemoryError("worker killed"))
        if isinstance(task, BatchTask) and len(task.files) > 1:
            assert [t.files for t in out.tasks] == [(r,) for r in task.files]
            assert not out.tables and not out.completed
        key = _isolated_key(task)
        if key is not None:
            self.failures[key] += 1
            retried = self.failures[key] < ATTEMPTS
            assert (out.tasks == [task]) == retried
        self._apply(out)

    @rule(pick=st.integers(0, 1000), fail=st.booleans())
    def step(self, pick: int, fail: bool) -> None:
        """Finish any pending task, or report it failed (nothing left: nothing to do)."""
        if not self.pending:
            return
        if fail:
            self.fail_task(pick)
        else:
            self.run_task(pick)

    def teardown(self) -> None:
        """The run goes on without failures to its end, then the final checks."""
        try:
            while self.pending:
                self.run_task(0)
            self.finished()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    @invariant()
    def files_complete_at_most_once(self) -> None:
        assert all(n == 1 for n in self.completed.values()), self.completed

    @invariant()
    def completed_files_have_all_rows(self) -> None:
        have = _image_rows(self.tables)
        for path in self.completed:
            assert have.get(path) == 1, (path, have.get(path))

    def finished(self) -> None:
        assert set(self.completed) == set(self.pixels)
        rows = pa.concat_tables(self.tables).to_pylist() if self.tables else []
        for row in rows:
            if row["obs_level"] != 0:
                continue
            if row["error"] is not None:
                assert row["error"].startswith("RuntimeError: worker failed") or "MemoryError" in row["error"]
                continue
            arr = self.pixels[row["imported_path"]]
            assert row["min_intensity"] == arr.min() and row["max_intensity"] == arr.max()
            assert row["finite_pixel_count"] == arr.size
            assert row["mean_intensity"] == pytest.approx(arr.mean(dtype=np.float64), rel=1e-12)


def _isolated_key(task: Any) -> Any:
    """The retry key of a task that runs alone (as Flow counts attempts), else None."""
    if isinstance(task, BatchTask):
        return (task.files[0].index, -1) if len(task.files) == 1 else None
    if isinstance(task, ChunkTask):
        return (task.ref.index, task.image, task.region, task.phase)
    return (task.ref.index, task.images[0]) if len(task.images) == 1 else None


def _image_rows(tables: list[pa.Table]) -> dict[str, int]:
    """Image-level (obs_level 0) rows per file."""
    out: Counter[str] = Counter()
    for t in tables:
        for path, level in zip(t.column("imported_path").to_pylist(), t.column("obs_level").to_pylist(), strict=True):
            if level == 0:
                out[path] += 1
    return dict(out)


def test_a_run_without_failures_makes_batch_and_chunk_tasks_of_both_phases() -> None:
    """The machine's run covers what Flow plans: batches, then range and stats chunk rounds."""
    machine = FlowMachine()
    kinds: Counter[tuple[str, str | None]] = Counter()
    try:
        while machine.pending:
            task = machine.pending[0]
            kinds[(type(task).__name__, getattr(task, "phase", None))] += 1
            machine.run_task(0)
    finally:
        machine.teardown()
    assert kinds[("BatchTask", None)] == 2
    assert kinds[("ChunkTask", "range")] == kinds[("ChunkTask", "stats")] >= 4


FlowMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestFlow = FlowMachine.TestCase
