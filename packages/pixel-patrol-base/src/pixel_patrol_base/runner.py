"""The Dask edge: where tasks run. Nothing else in the pipeline imports Dask.

Three executors share one small interface (``submit`` / ``next_done`` / ``close``):

* :class:`InlineExecutor` — ``--max-workers 1``: tasks run in the calling process, no cluster.
* a local cluster of worker processes sized by :func:`plan_workers`;
* an existing scheduler (``--scheduler URL``) or an active ``dask.distributed.Client``, used as
  it is.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil

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


def plan_workers(mb_per_task: float, max_workers: int | None = None) -> WorkerPlan:
    """Local worker count: ``min(CPUs, 80% of available RAM / per-worker need, --max-workers)``.

    Per-worker need = ``BASE_WORKER_MB + BUDGET_MULTIPLE × mb_per_task``. Each worker has one
    thread: the statistics are numpy-bound and processes avoid the GIL.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    avail_mb = psutil.virtual_memory().available / 2**20
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


Done = tuple[Any, Any, BaseException | None]
"""(tag, result, exception) of a finished task."""


class InlineExecutor:
    """Runs each task in the calling process when it is submitted."""

    kind = "in-process"

    def __init__(self, context: Any) -> None:
        self.context = context
        self.n_workers = 1
        self._done: deque[Done] = deque()

    def submit(self, fn: Callable[..., Any], task: Any, tag: Any) -> None:
        """Run ``fn(task, context)`` now; its outcome is returned by :meth:`next_done`."""
        try:
            self._done.append((tag, fn(task, self.context), None))
        except Exception as exc:  # noqa: BLE001 - the coordinator decides what a failed task means
            self._done.append((tag, None, exc))

    def next_done(self) -> Done:
        """The oldest finished task."""
        return self._done.popleft()

    def close(self) -> None:
        """Nothing to release."""


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
        client: Any,
        context: Any,
        owned: Any = None,
        kind: str = "scheduler",
        task_timeout: float | None = None,
    ) -> None:
        self.client = client
        self.owned = owned
        self.kind = kind
        self.task_timeout = task_timeout
        self.n_workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))
        self._ctx = context
        self._running: dict[str, tuple[Any, Any, float]] = {}
        self._expired: set[str] = set()

    def submit(self, fn: Callable[..., Any], task: Any, tag: Any) -> None:
        """Submit ``fn(task, context)``; failures are not retried by Dask but by the caller."""
        fut = self.client.submit(fn, task, self._ctx, pure=False, retries=0)
        self._running[fut.key] = (fut, tag, time.monotonic())

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

    def _outcome(self, key: str, fut: Any, tag: Any) -> Done:
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


def active_client() -> Any:
    """The ``dask.distributed`` client active in this process, if any (no import otherwise)."""
    if "distributed" not in sys.modules:
        return None
    from distributed import default_client

    try:
        return default_client()
    except ValueError:
        return None


def connect(address: str, context: Any, task_timeout: float | None = None) -> DaskExecutor:
    """Use an existing scheduler as it is."""
    from distributed import Client

    client = Client(address, timeout="30s", set_as_default=False)
    ex = DaskExecutor(client, context, kind=f"scheduler {address}", task_timeout=task_timeout)
    ex.owned = _ClientOnly(client)
    return ex


class _ClientOnly:
    """Closing an external scheduler's executor closes only our client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def close(self) -> None:
        self.client.close()


def start_local(plan: WorkerPlan, context: Any, task_timeout: float | None = None) -> DaskExecutor:
    """Start a local cluster of single-threaded worker processes."""
    import dask
    from distributed import Client, LocalCluster

    one = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "BLOSC_NTHREADS")}
    limit = int(psutil.virtual_memory().total * 0.9 / plan.n_workers)
    with dask.config.set(
        {
            "distributed.nanny.pre-spawn-environ": one,
            "distributed.scheduler.allowed-failures": 0,
            "distributed.scheduler.worker-saturation": 1.0,
            "distributed.worker.profile.enabled": False,
            "distributed.admin.tick.limit": "30s",
            "distributed.worker.memory.spill": False,
            "distributed.worker.memory.target": False,
        }
    ):
        cluster = LocalCluster(
            n_workers=plan.n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit=limit,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster, set_as_default=False)
    ex = DaskExecutor(client, context, kind="local cluster", task_timeout=task_timeout)
    ex.owned = _Both(client, cluster)
    return ex


class _Both:
    def __init__(self, client: Any, cluster: Any) -> None:
        self.client, self.cluster = client, cluster

    def close(self) -> None:
        self.client.close()
        self.cluster.close()
