"""Planner properties: every file and image planned once; chunks tile images within budget."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pixel_patrol_base.contracts import ImageHeader
from pixel_patrol_base.discovery import FileEntry
from pixel_patrol_base.planning import (
    BATCH_DISK_BYTES,
    ChunkTask,
    ContainerTask,
    FileRef,
    batch_files,
    chunk_regions,
    chunk_shape,
    leaf_block,
    plan_file,
)


def ref(i: int, size: int) -> FileRef:
    return FileRef(i, FileEntry(f"/d/f{i}", "/d", ".", size, 0))


@settings(deadline=None)
@given(
    sizes=st.lists(st.integers(0, 10**8), max_size=60),
    budget=st.integers(1, 10**9),
    max_images=st.integers(1, 12),
)
def test_batches_cover_files_once_in_order(sizes: list[int], budget: int, max_images: int) -> None:
    refs = [ref(i, s) for i, s in enumerate(sizes)]
    batches = list(batch_files(refs, budget, max_images))
    flat = [r.index for b in batches for r in b.files]
    assert flat == list(range(len(sizes)))
    limit = min(budget, BATCH_DISK_BYTES)
    for b in batches:
        assert 1 <= len(b.files) <= max_images
        assert sum(r.entry.size for r in b.files[:-1]) < limit


dims = st.sampled_from(["YX", "CYX", "ZYX", "TZCYX", "YXS", "ZCYX", "TYX"])


@st.composite
def images(draw: st.DrawFn) -> tuple[str, tuple[int, ...], int, dict[str, int], int]:
    order = draw(dims)
    shape = tuple(draw(st.integers(1, 9 if a not in "YX" else 40)) for a in order)
    itemsize = draw(st.sampled_from([1, 2, 4, 8]))
    slice_size = {a: draw(st.sampled_from([-1, 1, 2, 3])) for a in order if draw(st.booleans())}
    budget = draw(st.integers(1, itemsize * math.prod(shape) * 2))
    return order, shape, itemsize, slice_size, budget


@settings(max_examples=300, deadline=None)
@given(images())
def test_chunks_tile_without_gap_or_overlap(img: tuple) -> None:
    order, shape, itemsize, slice_size, budget = img
    chunk = chunk_shape(order, shape, itemsize, slice_size, budget)
    regions = chunk_regions(shape, chunk)
    cover = np.zeros(shape, dtype=np.int32)
    for r in regions:
        cover[tuple(slice(a, b) for a, b in r)] += 1
    assert (cover == 1).all()
    block = leaf_block(order, shape, slice_size)
    for r in regions:
        nbytes = itemsize * math.prod(b - a for a, b in r)
        extents = [b - a for a, b in r]
        # over budget only when the chunk is already cut down to one leaf block on every
        # non-plane axis, and the plane axes are cut as far as they go
        if nbytes > budget:
            for i, a in enumerate(order):
                if a not in "YX":
                    assert extents[i] <= block[i]
        for i, a in enumerate(order):
            if a not in "YX":
                assert r[i][0] % block[i] == 0  # leaves never straddle chunks on Z/T/C/S


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 5000), min_size=1, max_size=30),
    budget=st.integers(100, 20000),
    max_images=st.integers(1, 8),
)
def test_plan_file_covers_every_image_once(sizes: list[int], budget: int, max_images: int) -> None:
    headers = [ImageHeader("YX", (1, s), "uint8") for s in sizes]
    tasks = plan_file(ref(0, 1), headers, {}, budget, max_images, needs_range=True)
    whole = [i for t in tasks if isinstance(t, ContainerTask) for i in t.images]
    chunked = sorted({t.image for t in tasks if isinstance(t, ChunkTask)})
    assert sorted(whole + chunked) == list(range(len(sizes)))
    assert not set(whole) & set(chunked)
    for t in tasks:
        if isinstance(t, ContainerTask):
            assert len(t.images) <= max_images
            assert len(t.images) == 1 or sum(sizes[i] for i in t.images) <= budget
        else:
            assert t.phase == "range" and sizes[t.image] > budget


def test_large_stack_splits_along_z_first() -> None:
    chunk = chunk_shape("ZCYX", (300, 2, 1024, 2048), 2, {}, 512 * 2**20)
    assert chunk == [64, 2, 1024, 2048]
    assert len(chunk_regions((300, 2, 1024, 2048), chunk)) == 5


def test_grouped_slices_stay_whole() -> None:
    chunk = chunk_shape("ZYX", (100, 100, 100), 1, {"Z": 7}, 15 * 100 * 100)
    assert chunk[0] == 14


def test_single_plane_over_budget_splits_rows() -> None:
    chunk = chunk_shape("YX", (1000, 1000), 2, {}, 200_000)
    assert chunk == [100, 1000]
