"""Task planner: pure functions from discovered files (and headers) to tasks. No Dask here.

Three kinds of task exist:

* :class:`BatchTask` — several whole files. Batches close at ``max_images_per_task`` files or
  when their size on disk reaches the batch budget. No file is opened by the planner: the
  worker reads each header and, when an image is larger than the memory budget or a container
  holds too much, hands the file back as *deferred* so it is planned from its headers.
* :class:`ContainerTask` — some sub-images of one container file, under the same budgets.
* :class:`ChunkTask` — one region of one image too large for the budget. Regions split Z, T,
  C first, at leaf-block boundaries, then Y and X; they tile the image without gap or overlap.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pixel_patrol_base.discovery import FileEntry

BATCH_DISK_BYTES = 64 * 1024 * 1024
"""Batches also close at this many bytes on disk, so even a few large files spread over workers."""


@dataclass(frozen=True, slots=True)
class FileRef:
    """A discovered file and its position in discovery order (the report's row order)."""

    index: int
    entry: FileEntry


@dataclass(frozen=True, slots=True)
class BatchTask:
    """Whole files processed one after the other by one worker."""

    files: tuple[FileRef, ...]
    kind: str = "batch"


def batch_files(
    refs: Iterable[FileRef], budget_bytes: int, max_images: int
) -> Iterator[BatchTask]:
    """Group files into batch tasks, streaming (a batch is yielded as soon as it is full)."""
    limit = max(1, min(budget_bytes, BATCH_DISK_BYTES))
    batch: list[FileRef] = []
    size = 0
    for ref in refs:
        batch.append(ref)
        size += ref.entry.size
        if len(batch) >= max_images or size >= limit:
            yield BatchTask(tuple(batch))
            batch, size = [], 0
    if batch:
        yield BatchTask(tuple(batch))
