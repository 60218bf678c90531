"""Batch sizes for local workers: small at the start, the planner's size in the middle, and
shrinking toward the end so that the workers finish together.

At the start, the first file runs alone in the coordinator before any worker exists: it pays
the one-time costs (imports, reader set-up, loading compiled kernels) that the forked workers
then inherit, and small early batches spread a short run evenly over the workers.

At the end, a worker that drew the last full-size batch (the planner's 200 files, a second or
more of work) would run on alone while the others wait: with the run's file count known,
each batch holds at most ``1 / (TAIL_SHARE × workers)`` of the files not yet handed out
(guided self-scheduling), so the last batches are small and the wait at the end is a few files
long. Rows do not depend on how files are batched: the report is sorted by file order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from pixel_patrol_base.planning import BatchTask

RAMP = (1, 2, 4, 8, 16, 32, 64, 128)
"""Sizes of the first batches on local workers; later batches keep the planner's size. The
first two run in the coordinator (``runner.PROBE_TASKS``): the second is the first measured
one, kept to two files because a core waits while it runs (0.3 s on 16-plane stacks)."""

TAIL_SHARE = 2
"""A batch takes at most ``1 / (TAIL_SHARE × workers)`` of the files left: each worker's last
batch is then about half the size of the one before, a few dozen batches in all."""

MIN_TAIL_BATCH = 8
"""The smallest batch the tail is cut into: below it, a batch's fixed cost (its messages, its
rows sent back and registered) is no longer small against the work of its files."""


def paced(
    tasks: Iterator[BatchTask], n_workers: int, queued: Callable[[], int | None]
) -> Iterator[BatchTask]:
    """``tasks`` re-cut: ramped up at the start and shrinking at the end.

    ``queued()`` is the number of files of the run to process, ``None`` while discovery may
    still find more (the tail is then not cut: its size is unknown).
    """
    sizes = iter(RAMP)
    size: int | None = next(sizes)
    given = 0
    for task in tasks:
        files = task.files
        while files:
            n = _batch_size(len(files), size, _left(queued(), given), n_workers)
            batch = files[:n]
            yield task if len(batch) == len(task.files) else BatchTask(batch)
            files = files[n:]
            given += n
            size = next(sizes, None)


def _left(queued: int | None, given: int) -> int | None:
    return None if queued is None else queued - given


def _batch_size(available: int, ramp: int | None, left: int | None, n_workers: int) -> int:
    """Files of the next batch out of the ``available`` ones of the planner's batch."""
    n = available if ramp is None else min(available, ramp)
    if left is not None:
        n = min(n, max(MIN_TAIL_BATCH, math.ceil(left / (TAIL_SHARE * n_workers))))
    return max(1, n)


__all__ = ["MIN_TAIL_BATCH", "RAMP", "TAIL_SHARE", "paced"]
