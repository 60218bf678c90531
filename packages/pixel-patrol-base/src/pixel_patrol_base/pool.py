"""Local worker processes, started in milliseconds and watched by the coordinator.

A local run needs no cluster framework: the coordinator forks worker processes after it has
imported the loader and processors and warmed their compiled kernels on the first file, so a
worker is ready as soon as it exists and every worker shares those pages copy-on-write. Each
worker holds a pipe to the coordinator and runs one task at a time; while it works it reports
every finished file, so progress moves per file rather than per task.

The coordinator watches its workers: a worker that dies (a reader that crashes the
interpreter, the kernel's OOM killer) fails only the task it held, a task past
``--task-timeout`` has its worker killed and replaced, and so does a worker whose resident
memory passes its share of the machine. Workers ignore Ctrl-C: the coordinator alone decides
when to stop and stops them quietly.

Where ``fork`` is unsafe (macOS, Windows) workers are spawned instead; they then import and
warm up on their own.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from pixel_patrol_base.executor import Done, TaskFn

if TYPE_CHECKING:
    from pixel_patrol_base.planning import Task
    from pixel_patrol_base.worker import WorkContext

from pixel_patrol_base import interrupts

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
"""How often a waiting coordinator lets progress refresh."""

WATCH_SECONDS = 1.0
"""How often the coordinator checks its workers' deadlines and memory."""

TICK_SECONDS = 0.25
"""Workers report finished files at most this often (one small message, not one per file):
each report costs the coordinator a receive and a progress update, so their rate, workers ×
1 / ``TICK_SECONDS``, is kept low; a display refreshes no faster anyway."""

ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "BLOSC_NTHREADS")


class WorkerDied(RuntimeError):
    """The worker process ended while it held a task."""


@dataclass(slots=True)
class _Worker:
    process: BaseProcess
    conn: Connection
    task: tuple[TaskFn, Task, Task] | None = None  # (fn, task, tag)
    started: float = 0.0
    ticks: int = 0


def _context() -> ForkContext | SpawnContext:
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class LocalPool:
    """A fixed number of worker processes behind the executor interface.

    ``submit`` queues a task, ``next_done`` hands tasks to idle workers and returns the next
    outcome, ``files_in_flight`` counts files finished inside tasks that are still running.
    """

    kind = "local processes"

    def __init__(
        self,
        n_workers: int,
        context: WorkContext,
        task_timeout: float | None = None,
        memory_limit: int | None = None,
        heartbeat: Callable[[], None] | None = None,
    ) -> None:
        self.n_workers = n_workers
        self._ctx = context
        self.task_timeout = task_timeout
        self.memory_limit = memory_limit
        self.heartbeat = heartbeat
        self._mp = _context()
        self._workers: list[_Worker] = []
        self._queue: deque[tuple[TaskFn, Task, Task]] = deque()
        self._done: deque[Done] = deque()
        self._last_watch = self._opened = time.monotonic()
        self._busy_s = 0.0
        started = False
        try:
            with interrupts.deferred():
                for _ in range(n_workers):
                    self._workers.append(self._start())
            started = True
        finally:
            if not started:  # Ctrl-C while starting: nobody else holds these workers yet
                self.close()

    def _start(self) -> _Worker:
        """Fork (or spawn) one worker. Callers hold Ctrl-C (:func:`interrupts.deferred`) until
        the worker is registered: an interrupt raised inside the fork's own hooks would be
        swallowed by Python (the run went on), and one raised in the new process before it
        ignores SIGINT would unwind the coordinator's copied stack there and print through
        its copy of the progress display (the bar drawn again after the error line)."""
        parent, child = self._mp.Pipe(duplex=True)
        proc = self._mp.Process(target=_serve, args=(child, self._ctx), daemon=True, name="pixel-patrol-worker")
        with _single_threaded_libraries():
            proc.start()
        child.close()
        return _Worker(proc, parent)

    def submit(self, fn: TaskFn, task: Task, tag: Task) -> None:
        """Queue ``fn(task, context)``; it runs on the next idle worker."""
        self._queue.append((fn, task, tag))
        self._dispatch()

    def files_in_flight(self) -> int:
        """Files already finished inside tasks that are still running."""
        return sum(w.ticks for w in self._workers if w.task is not None)

    def _dispatch(self) -> None:
        for w in self._workers:
            if not self._queue:
                return
            if w.task is None:
                item = self._queue.popleft()
                try:
                    w.conn.send((item[0], item[1]))
                except (OSError, ValueError) as exc:  # the idle worker is gone: replace it
                    self._queue.appendleft(item)
                    self._replace(w, exc)
                    continue
                w.task, w.started, w.ticks = item, time.monotonic(), 0

    def next_done(self) -> Done:
        """Block until a task finishes (or fails) and return its outcome."""
        while not self._done:
            self._dispatch()
            busy = [w for w in self._workers if w.task is not None]
            if not busy:
                raise RuntimeError("next_done() with no task submitted")
            ready = wait([w.conn for w in busy], timeout=POLL_SECONDS)
            for w in busy:
                if w.conn in ready:
                    self._receive(w)
            self._watch()
        return self._done.popleft()

    def _receive(self, w: _Worker) -> None:
        try:
            kind, value = w.conn.recv()
        except (EOFError, OSError):
            w.process.join(timeout=5)
            code = w.process.exitcode
            self._fail(w, WorkerDied(f"worker process ended unexpectedly (exit code {code})"))
            return
        if kind == "tick":
            w.ticks += value
            if self.heartbeat is not None:
                self.heartbeat()
            return
        assert w.task is not None
        tag = w.task[2]
        w.task = None
        self._busy_s += time.monotonic() - w.started
        self._done.append((tag, value, None) if kind == "ok" else (tag, None, value))
        self._dispatch()  # the next queued task starts before the coordinator handles this one

    def _fail(self, w: _Worker, exc: BaseException) -> None:
        """The worker's task failed with ``exc``; the worker is replaced by a fresh one."""
        if w.task is not None:
            self._done.append((w.task[2], None, exc))
            w.task = None
        self._replace(w, exc)

    def _replace(self, w: _Worker, why: BaseException) -> None:
        log.debug("replacing worker %s: %s", w.process.pid, why)
        _kill(w)
        with interrupts.deferred():
            self._workers[self._workers.index(w)] = self._start()

    def _watch(self) -> None:
        """A progress heartbeat, and deadlines and memory of busy workers about once a second."""
        if self.heartbeat is not None:
            self.heartbeat()
        now = time.monotonic()
        if now - self._last_watch < WATCH_SECONDS:
            return
        self._last_watch = now
        for w in list(self._workers):
            if w.task is None:
                continue
            if self.task_timeout is not None and now - w.started > self.task_timeout:
                log.warning("restarting a worker stuck past --task-timeout")
                self._fail(w, TimeoutError(
                    f"no result after {self.task_timeout:g} s (--task-timeout); its worker was restarted"
                ))
            elif self.memory_limit is not None and (rss := _rss(w.process.pid)) > self.memory_limit:
                log.warning("restarting a worker above its memory share (%.1f GB)", rss / 2**30)
                self._fail(w, MemoryError(
                    f"worker used {rss / 2**30:.1f} GB, above its share of {self.memory_limit / 2**30:.1f} GB;"
                    " lower --mb-per-task or --max-workers"
                ))

    def close(self) -> None:
        """Stop every worker (idle ones finish cleanly, busy ones are killed)."""
        if self._workers:
            open_s = time.monotonic() - self._opened
            log.debug(
                "workers busy %.3f s of %d × %.3f s (idle %.3f s: start, hand-over and tail)",
                self._busy_s, len(self._workers), open_s, len(self._workers) * open_s - self._busy_s,
            )
        for w in self._workers:
            if w.task is None:
                with contextlib.suppress(OSError, ValueError):
                    w.conn.send(None)
            else:
                _kill(w)
        deadline = time.monotonic() + 5
        for w in self._workers:
            w.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                _kill(w)
            w.conn.close()
        self._workers = []


def _kill(w: _Worker) -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        w.process.kill()
        w.process.join(timeout=5)
    with contextlib.suppress(OSError):
        w.conn.close()


def _rss(pid: int | None) -> int:
    """Resident bytes of a worker (``/proc`` where there is one, psutil elsewhere)."""
    if pid is None:  # not started
        return 0
    try:
        with open(f"/proc/{pid}/statm", "rb", buffering=0) as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        import psutil

        try:
            return int(psutil.Process(pid).memory_info().rss)
        except psutil.Error:
            return 0


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@contextlib.contextmanager
def _single_threaded_libraries() -> Iterator[None]:
    """Children see one BLAS/OpenMP/Blosc thread each: the workers already fill the cores."""
    old = {k: os.environ.get(k) for k in ONE_THREAD}
    os.environ.update({k: "1" for k in ONE_THREAD})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _serve(conn: Connection, ctx: WorkContext) -> None:
    """Worker main loop: run tasks until told to stop (``None``) or the pipe closes."""
    from pixel_patrol_base import worker

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()
    _fresh_stdio()
    _quiet_child_logging()
    ticker = _Ticker(conn)
    worker.set_progress_hook(ticker.add)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        fn, task = msg
        ticker.reset()
        try:
            reply: tuple[str, Any] = ("ok", fn(task, ctx))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the coordinator
            reply = ("error", _portable(exc))
        try:
            conn.send(reply)
        except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
            conn.send(("error", RuntimeError(f"cannot send the result back: {type(exc).__name__}: {exc}")))


class _Ticker:
    """Counts finished files and tells the coordinator at most every ``TICK_SECONDS``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pending = 0
        self.last = time.monotonic()

    def reset(self) -> None:
        self.pending = 0
        self.last = time.monotonic()

    def add(self, n: int) -> None:
        self.pending += n
        now = time.monotonic()
        if now - self.last >= TICK_SECONDS:
            self.conn.send(("tick", self.pending))
            self.pending, self.last = 0, now


def _die_with_parent() -> None:
    """On Linux, end this worker when the coordinator dies, even by SIGKILL."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the coordinator was already gone
        os._exit(1)


def _fresh_stdio() -> None:
    """New stdout/stderr objects: a lock the coordinator's other threads (a progress display)
    held at the moment of the fork must not block this process's writes."""
    with contextlib.suppress(OSError, ValueError):
        sys.stdout = open(1, "w", closefd=False, encoding="utf-8", errors="backslashreplace")  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False, encoding="utf-8", errors="backslashreplace")  # noqa: SIM115


def _quiet_child_logging() -> None:
    """Forked workers keep no handler of the coordinator (its log file, its terminal)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(logging.NullHandler())
    for name in ("pixel_patrol_base",):
        lg = logging.getLogger(name)
        for h in list(lg.handlers):
            lg.removeHandler(h)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError carrying its text."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any pickling problem: fall back to text
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return RuntimeError(text)


__all__ = ["LocalPool", "WorkerDied"]
