"""The one interface through which the coordinator runs tasks, wherever they run.

The in-process executor, the local worker pool (:mod:`pixel_patrol_base.pool`) and the Dask
executors (:mod:`pixel_patrol_base.runner`) all satisfy :class:`Executor`, so the coordinator
needs no branch per kind. A capability only some of them have is its own ``Supports…``
protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeAlias, runtime_checkable

if TYPE_CHECKING:
    from pixel_patrol_base.planning import Task
    from pixel_patrol_base.tasks import TaskOutcome
    from pixel_patrol_base.worker import WorkContext

TaskFn: TypeAlias = "Callable[[Task, WorkContext], TaskOutcome]"
"""What runs a task where it lands (:func:`pixel_patrol_base.tasks.execute`)."""

Done: TypeAlias = "tuple[Task, TaskOutcome | None, BaseException | None]"
"""(tag, result, exception) of a finished task: exactly one of result and exception is set."""


class Executor(Protocol):
    """Runs ``fn(task, context)`` somewhere and hands the outcomes back one at a time.

    ``submit`` must not block for long (a local pool queues the task); ``next_done`` blocks
    until some submitted task has finished, in any order. A task that raised, or whose worker
    died, comes back with its exception: the coordinator decides what that means.
    """

    @property
    def kind(self) -> str:
        """Where tasks run, for the run summary (e.g. ``"local processes"``)."""
        ...

    @property
    def n_workers(self) -> int:
        """How many tasks can run at once (the coordinator keeps about twice that queued)."""
        ...

    def submit(self, fn: TaskFn, task: Task, tag: Task) -> None:
        """Run ``fn(task, context)``; ``tag`` comes back with its outcome."""
        ...

    def next_done(self) -> Done:
        """The next finished task (blocks until there is one)."""
        ...

    def files_in_flight(self) -> int:
        """Files already finished inside tasks that are still running (progress per file)."""
        ...

    def close(self) -> None:
        """Release the workers this executor started (an external cluster is left running)."""
        ...


@runtime_checkable
class SupportsCpuSeconds(Protocol):
    """An executor that runs tasks in the coordinator's process and counts their CPU seconds
    (the summary adds them to the workers' share)."""

    @property
    def cpu_s(self) -> float:
        """CPU seconds spent running tasks in this process."""
        ...


__all__ = ["Done", "Executor", "SupportsCpuSeconds", "TaskFn"]
