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

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from pixel_patrol_base.contracts import ImageHeader
from pixel_patrol_base.discovery import FileEntry

if TYPE_CHECKING:
    from pixel_patrol_base.contracts import PlaneProgram
    from pixel_patrol_base.planes import PlaneKey

BATCH_DISK_BYTES = 64 * 1024 * 1024
"""Batches also close at this many bytes on disk, so even a few large files spread over workers."""


@dataclass(frozen=True, slots=True)
class FileRef:
    """A discovered file and its position in discovery order (the report's row order)."""

    index: int
    entry: FileEntry

    def __reduce__(self) -> tuple[type[FileRef], tuple[int, FileEntry]]:
        """Pickle as a plain tuple (see :meth:`FileEntry.__reduce__`)."""
        return FileRef, (self.index, self.entry)


@dataclass(frozen=True, slots=True)
class BatchTask:
    """Whole files processed one after the other by one worker."""

    files: tuple[FileRef, ...]
    kind: Literal["batch"] = "batch"


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


@dataclass(frozen=True, slots=True)
class ContainerTask:
    """Whole images of one file: a container's sub-images, grouped under the budgets."""

    ref: FileRef
    images: tuple[int, ...]
    n_images: int
    kind: Literal["container"] = "container"


Phase = Literal["range", "survey", "stats"]
"""The pass a chunk task makes (see :class:`ChunkTask`)."""


@dataclass(frozen=True, slots=True)
class ChunkTask:
    """One memory chunk of one image too large for the budget.

    ``phase`` is ``"range"`` for the pre-pass that finds the image-wide value range (needed for
    shared histogram edges) and makes the first survey pass of the plane programs of planes
    the chunks cut (see :mod:`pixel_patrol_base.rounds`), ``"survey"`` for further survey
    passes, and ``"stats"`` for the pass that runs the processors. ``programs`` are the plane
    programs of the planes the region touches, as ``(key, program)`` pairs.
    """

    ref: FileRef
    image: int
    n_images: int
    region: tuple[tuple[int, int], ...]
    phase: Phase
    value_range: tuple[float, float] | None = None
    programs: tuple[tuple[PlaneKey, PlaneProgram], ...] = ()
    kind: Literal["chunk"] = "chunk"


Task = BatchTask | ContainerTask | ChunkTask
"""Every kind of task; dispatch on it with ``match`` and end with ``assert_never``."""


def leaf_block(dim_order: str, shape: Sequence[int], slice_size: Mapping[str, int]) -> list[int]:
    """Leaf block extent per axis: the user's size, else X and Y full and the others 1."""
    out = []
    for axis, size in zip(dim_order, shape, strict=True):
        b = slice_size.get(axis, -1 if axis in "YX" else 1)
        out.append(size if b == -1 else min(b, size))
    return out


def chunk_shape(
    dim_order: str,
    shape: Sequence[int],
    itemsize: int,
    slice_size: Mapping[str, int],
    budget: int,
    halo: int = 0,
) -> list[int]:
    """Extent of the memory chunks of an image: at most ``budget`` bytes read where possible.

    Axes other than Y and X are split first, outermost first (so chunks are contiguous in
    storage), in whole leaf blocks so no leaf straddles two chunks; then Y, then X. Only a
    single leaf block that is larger than the budget is cut through. A chunk cut along Y or X
    is read with ``halo`` extra pixels on each cut side (the neighbourhood support of the tiled
    processors), and the budget counts them.
    """
    block = leaf_block(dim_order, shape, slice_size)
    chunk = [max(1, int(s)) for s in shape]
    order = [i for i, a in enumerate(dim_order) if a not in "YX"]
    order += [i for a in "YX" for i, b in enumerate(dim_order) if b == a]
    for i in order:
        total = itemsize * math.prod(
            _held(dim_order[j], c, int(shape[j]), halo) for j, c in enumerate(chunk)
        )
        if total <= budget:
            break
        per_unit = total // _held(dim_order[i], chunk[i], int(shape[i]), halo)
        units = max(1, budget // max(per_unit, 1))
        if dim_order[i] in "YX":
            units = max(1, units - 2 * halo)
        step = block[i] if dim_order[i] not in "YX" or block[i] < shape[i] else 1
        chunk[i] = min(chunk[i], max(step, (units // step) * step))
    return chunk


def _held(axis: str, extent: int, full: int, halo: int) -> int:
    """Extent read along ``axis`` for a chunk of ``extent``: plus the halo where Y or X is cut."""
    if axis in "YX" and extent < full:
        return min(full, extent + 2 * halo)
    return extent


def chunk_regions(shape: Sequence[int], chunk: Sequence[int]) -> list[tuple[tuple[int, int], ...]]:
    """All chunks of ``chunk`` extent tiling ``shape``, in storage order (last axis fastest)."""
    ranges = [
        [(a, min(a + c, s)) for a in range(0, max(s, 1), max(c, 1))] for s, c in zip(shape, chunk, strict=True)
    ]
    return list(itertools.product(*ranges))


def plan_file(
    ref: FileRef,
    headers: Sequence[ImageHeader],
    slice_size: Mapping[str, int],
    budget: int,
    max_images: int,
    needs_range: bool,
    halo: int = 0,
) -> list[ContainerTask | ChunkTask]:
    """Tasks for a file handed back by a batch worker (large image or heavy container)."""
    n = len(headers)
    out: list[ContainerTask | ChunkTask] = []
    group: list[int] = []
    size = 0
    for i, h in enumerate(headers):
        if h.nbytes > budget:
            item = np.dtype(h.dtype).itemsize
            shape = chunk_shape(h.dim_order, h.shape, item, slice_size, budget, halo)
            phase: Phase = "range" if needs_range else "stats"
            out += [ChunkTask(ref, i, n, r, phase) for r in chunk_regions(h.shape, shape)]
            continue
        if group and (size + h.nbytes > budget or len(group) >= max_images):
            out.append(ContainerTask(ref, tuple(group), n))
            group, size = [], 0
        group.append(i)
        size += h.nbytes
    if group:
        out.append(ContainerTask(ref, tuple(group), n))
    return out
