"""The Dask edge: where tasks run. Nothing else in the pipeline imports Dask.

Executors share one small interface (``submit`` / ``next_done`` / ``files_in_flight`` /
``close``):

* :class:`InlineExecutor` — ``--max-workers 1``: tasks run in the calling process.
* :class:`AdaptiveExecutor` — the default on one machine: the first tasks run in the calling
  process (they import the readers, warm the compiled kernels and measure the CPU per file),
  then, when the files left are estimated to need more than ``SCALE_OUT_CPU_S`` of CPU, worker
  processes sized by :func:`plan_workers` are forked from that warm process
  (:mod:`pixel_patrol_base.pool`). No cluster is started, so a small run costs what its files
  cost.
* :class:`DaskExecutor` — an existing scheduler (``--scheduler URL``) or an active
  ``dask.distributed.Client``, used as it is.
"""

from __future__ import annotations

import logging
import math
import os
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pixel_patrol_base.executor import Done, Executor, TaskFn

if TYPE_CHECKING:
    from dask.typing import Key
    from distributed import Client, Future

    from pixel_patrol_base.planning import Task
    from pixel_patrol_base.tasks import TaskOutcome
    from pixel_patrol_base.worker import WorkContext

log = logging.getLogger(__name__)

BASE_WORKER_MB = 400.0
"""Resident memory of an idle worker process with numpy, pyarrow and the readers imported."""

BUDGET_MULTIPLE = 3.0
"""Peak worker memory per task as a multiple of ``--mb-per-task`` (pixels + float64 work)."""


@dataclass(frozen=True, slots=True)
class WorkerPlan:
    """How many local workers to start, and the numbers behind the choice."""

    n_workers: int
    cpus: int
    available_gb: float
    per_worker_gb: float
    reason: str


_MEMINFO = {"available": "MemAvailable:", "total": "MemTotal:"}


def _memory_bytes(kind: str) -> int:
    """The machine's ``"available"`` or ``"total"`` RAM, as psutil reports it.

    Read from ``/proc/meminfo`` where there is one (the same fields psutil reads there), so a
    run that never starts a worker process does not import psutil (~0.02 s of CPU).
    """
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                name, value, *_ = line.split()
                if name.decode() == _MEMINFO[kind]:
                    return int(value) * 1024
    except (OSError, ValueError):
        pass
    import psutil

    memory = psutil.virtual_memory()
    return int(memory.available if kind == "available" else memory.total)


def plan_workers(mb_per_task: float, max_workers: int | None = None) -> WorkerPlan:
    """Local worker count: ``min(CPUs, 80% of available RAM / per-worker need, --max-workers)``.

    Per-worker need = ``BASE_WORKER_MB + BUDGET_MULTIPLE × mb_per_task``. Each worker has one
    thread: the statistics are numpy-bound and processes avoid the GIL.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    avail_mb = _memory_bytes("available") / 2**20
    need_mb = BASE_WORKER_MB + BUDGET_MULTIPLE * mb_per_task
    by_ram = max(1, math.floor(0.8 * avail_mb / need_mb))
    n = min(cpus, by_ram)
    why = f"{cpus} CPUs, {avail_mb / 1024:.1f} GB RAM available, ~{need_mb / 1024:.1f} GB per worker at --mb-per-task {mb_per_task:g}"
    if max_workers is not None and max_workers < n:
        n = max_workers
        why += f", capped by --max-workers {max_workers}"
    elif by_ram < cpus:
        why += " (RAM is the limit; lower --mb-per-task for more workers)"
    return WorkerPlan(n, cpus, avail_mb / 1024, need_mb / 1024, why)


SCALE_OUT_CPU_S = 1.0
"""Local workers are started when the files still to process are estimated to need more CPU
seconds than this (measured in-process): two workers then save about half of it, well above
what starting them costs (tens of ms to fork, up to a few hundred ms for each worker to load
the kernels of pixel types the coordinator has not met)."""

KEEP_FILE_CPU = 64
"""Files whose CPU seconds an in-process executor keeps (for the estimate; bounded memory)."""

PROBE_TASKS = 2
"""In-process tasks before the estimate is trusted: the first also loads readers and kernels."""


def _files(task: Task) -> int | None:
    """Files in a task of whole files; ``None`` for a chunk of one large image."""
    files = getattr(task, "files", None)
    return None if files is None else len(files)


class InlineExecutor:
    """Runs each task in the calling process when it is submitted.

    ``on_file`` is called with the number of files finished so far inside the running task,
    so a caller can show progress per file even though a task holds many files.
    """

    kind = "in-process"

    def __init__(self, context: WorkContext, on_file: Callable[[], None] | None = None) -> None:
        self.context = context
        self.n_workers = 1
        self.on_file = on_file
        self._ticks = 0
        self.cpu_s = 0.0
        """CPU seconds spent running tasks in this process."""
        self.file_cpu: list[float] = []
        """CPU seconds of the first ``KEEP_FILE_CPU`` files finished in this process."""
        self._mark = 0.0
        self._done: deque[Done] = deque()

    def submit(self, fn: TaskFn, task: Task, tag: Task) -> None:
        """Run ``fn(task, context)`` now; its outcome is returned by :meth:`next_done`."""
        from pixel_patrol_base import worker

        self._ticks = 0
        worker.set_progress_hook(self._tick)
        cpu0 = self._mark = time.process_time()
        try:
            self._done.append((tag, fn(task, self.context), None))
        except Exception as exc:  # noqa: BLE001 - the coordinator decides what a failed task means
            self._done.append((tag, None, exc))
        finally:
            worker.set_progress_hook(None)
            self._ticks = 0
            self.cpu_s += time.process_time() - cpu0

    def _tick(self, n: int) -> None:
        now = time.process_time()
        if len(self.file_cpu) < KEEP_FILE_CPU:
            self.file_cpu += [(now - self._mark) / n] * n
        self._mark = now
        self._ticks += n
        if self.on_file is not None:
            self.on_file()

    def files_in_flight(self) -> int:
        """Files finished inside the task that is running now."""
        return self._ticks

    def next_done(self) -> Done:
        """The oldest finished task."""
        return self._done.popleft()

    def close(self) -> None:
        """Nothing to release."""


class AdaptiveExecutor:
    """In-process first, then forked local workers once the work still to do warrants them.

    The first tasks run here: imports, reader set-up and the compiled kernels' load are paid
    once, before any worker is forked (workers inherit all of it), and their CPU seconds per
    file give the cost of what is left. Workers are started only when that estimate exceeds
    ``SCALE_OUT_CPU_S``: below it, forking, the workers' own first use of kernels for pixel
    types the coordinator has not seen, and the hand-over of every task cost more than a
    second core saves (300 small images took longer on two workers than on one). A run that
    never crosses it never starts a worker.
    """

    kind = "local processes"

    def __init__(
        self,
        plan: WorkerPlan,
        context: WorkContext,
        task_timeout: float | None = None,
        on_file: Callable[[], None] | None = None,
        queued: Callable[[], int | None] | None = None,
    ) -> None:
        """``queued`` counts the files of the run (``None`` while discovery goes on); without
        it, workers start with the second task (``--max-workers N`` asked for them)."""
        self.plan = plan
        self.n_workers = plan.n_workers
        self.context = context
        self.task_timeout = task_timeout
        self.on_file = on_file
        self.queued = queued
        """Files queued for processing in the whole run, ``None`` while unknown."""
        self.inline = InlineExecutor(context, on_file)
        self.pool: Executor | None = None
        """The forked workers (a :class:`~pixel_patrol_base.pool.LocalPool`), once started."""
        self._submitted = 0
        self._probes = 0  # tasks run in-process

    def submit(self, fn: TaskFn, task: Task, tag: Task) -> None:
        """Run the task here while the rest is cheap; else on the workers (started once)."""
        files = _files(task)
        self._submitted += files or 0
        if self.pool is None and not self._scale_out(files):
            self.inline.submit(fn, task, tag)
            self._probes += 1
            return
        if self.pool is None:
            from pixel_patrol_base.pool import LocalPool

            limit = int(_memory_bytes("total") * 0.9 / self.plan.n_workers)
            self.pool = LocalPool(self.plan.n_workers, self.context, self.task_timeout, limit, self.on_file)
            log.debug("started %d worker processes (%s)", self.plan.n_workers, self._estimate_text())
        self.pool.submit(fn, task, tag)

    def _scale_out(self, files: int | None) -> bool:
        """Whether the work from this task on is estimated above ``SCALE_OUT_CPU_S``."""
        if not self._probes:
            return False  # the first task always runs here (it warms what workers inherit)
        if files is None or self.queued is None:
            return True  # a chunk of an image too large for one task, or workers asked for
        queued = self.queued()
        if queued is None:
            return True  # discovery is still finding files: a large run
        if self._probes < PROBE_TASKS:
            return False
        left = max(files, queued - self._submitted + files)
        return left * self._per_file() > SCALE_OUT_CPU_S

    def _per_file(self) -> float:
        """Median CPU seconds of the files run in-process after the first: the first loads
        readers and kernels, and so does the first file of each new pixel type, which the
        median leaves out."""
        cpu = self.inline.file_cpu
        return statistics.median(cpu[1:] or cpu) if cpu else 0.0

    def _estimate_text(self) -> str:
        return f"{self._per_file() * 1000:.1f} ms CPU per file in-process"

    @property
    def cpu_s(self) -> float:
        """CPU seconds of the tasks run in this process."""
        return self.inline.cpu_s

    def files_in_flight(self) -> int:
        """Files finished inside running tasks."""
        return self.inline.files_in_flight() + (self.pool.files_in_flight() if self.pool else 0)

    def next_done(self) -> Done:
        """The in-process task's outcome first, then the workers'."""
        if self.inline._done or self.pool is None:
            return self.inline.next_done()
        return self.pool.next_done()

    def close(self) -> None:
        """Stop the workers, if any were started."""
        if self.pool is not None:
            self.pool.close()
            self.pool = None


POLL_SECONDS = 2.0
"""How often a waiting coordinator looks for tasks over their time limit."""


class DaskExecutor:
    """Runs tasks on a Dask cluster.

    The worker context (loader, processors, schema: a few kB) travels with every task rather
    than being scattered once: scattered data dies with the workers that hold it, and a run
    must survive workers being killed. A task still running after ``task_timeout`` seconds has
    its worker restarted (a hung reader cannot be stopped otherwise); it then fails with a
    :class:`TimeoutError` and the coordinator isolates it like any other failure.
    """

    def __init__(
        self,
        client: Client,
        context: WorkContext,
        owned: SupportsClose | None = None,
        kind: str = "scheduler",
        task_timeout: float | None = None,
    ) -> None:
        self.client = client
        self.owned = owned
        self.kind = kind
        self.task_timeout = task_timeout
        self.n_workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))
        self._ctx = context
        self._running: dict[Key, tuple[Future[TaskOutcome], Task, float]] = {}
        self._expired: set[Key] = set()

    def submit(self, fn: TaskFn, task: Task, tag: Task) -> None:
        """Submit ``fn(task, context)``; failures are not retried by Dask but by the caller."""
        fut = self.client.submit(fn, task, self._ctx, pure=False, retries=0)
        self._running[fut.key] = (fut, tag, time.monotonic())

    def files_in_flight(self) -> int:
        """Dask tasks report only when they end."""
        return 0

    def next_done(self) -> Done:
        """Block until any submitted task finishes (restarting workers of overdue tasks)."""
        from distributed.client import FIRST_COMPLETED, _wait

        while True:
            for key, (fut, tag, _t0) in self._running.items():
                if fut.done():
                    del self._running[key]
                    return self._outcome(key, fut, tag)
            futures = [f for f, _tag, _t0 in self._running.values()]
            try:  # distributed.wait() would look for a default client; ours may not be one
                self.client.sync(_wait, futures, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            except TimeoutError:
                self._restart_overdue()

    def _outcome(self, key: Key, fut: Future[TaskOutcome], tag: Task) -> Done:
        try:
            return tag, fut.result(), None
        except Exception as exc:  # noqa: BLE001 - worker death or task error: handled by caller
            failure: BaseException = exc
            if key in self._expired:
                failure = TimeoutError(
                    f"no result after {self.task_timeout:g} s (--task-timeout); its worker was restarted"
                )
            return tag, None, failure
        finally:
            self._expired.discard(key)
            fut.release()

    def _restart_overdue(self) -> None:
        if self.task_timeout is None:
            return
        now = time.monotonic()
        overdue = {k for k, (f, _t, t0) in self._running.items() if now - t0 > self.task_timeout}
        overdue -= self._expired
        if not overdue:
            return
        workers = [w for w, keys in self.client.processing().items() if overdue & set(keys)]
        log.warning("restarting %d worker(s) stuck past --task-timeout", len(workers))
        self._expired |= overdue
        if workers:
            self.client.restart_workers(workers, timeout=60, raise_for_error=False)

    def close(self) -> None:
        """Shut down the cluster if we started it; leave an external one running."""
        if self.owned is not None:
            self.owned.close()


def active_client() -> Client | None:
    """The ``dask.distributed`` client active in this process, if any (no import otherwise)."""
    if "distributed" not in sys.modules:
        return None
    from distributed import default_client

    try:
        result: Client = default_client()
        return result
    except ValueError:
        return None


def connect(address: str, context: WorkContext, task_timeout: float | None = None) -> DaskExecutor:
    """Use an existing scheduler as it is."""
    from distributed import Client

    from pixel_patrol_base.errors import PixelPatrolError

    quiet_dask_logging()
    try:
        client = Client(address, timeout="30s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise PixelPatrolError(
            f"cannot reach the Dask scheduler at {address} ({exc}); check --scheduler and that"
            " the scheduler is running"
        ) from None
    ex = DaskExecutor(client, context, kind=f"scheduler {address}", task_timeout=task_timeout)
    ex.owned = _ClientOnly(client)
    return ex


class SupportsClose(Protocol):
    """What an executor owns and closes with it (a cluster it started, or only its client)."""

    def close(self) -> None:
        """Release it."""
        ...


class _ClientOnly:
    """Closing an external scheduler's executor closes only our client."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def close(self) -> None:
        self.client.close()


def quiet_dask_logging() -> None:
    """Send Dask's own log records to our handlers (the debug log) instead of the terminal.

    ``distributed`` installs a stderr handler on its loggers when it is imported; its warnings
    and the tracebacks it logs while a connection closes (e.g. after Ctrl-C) are not for users.
    """
    for name in ("distributed", "dask"):
        lg = logging.getLogger(name)
        for h in list(lg.handlers):
            lg.removeHandler(h)
        lg.propagate = True
