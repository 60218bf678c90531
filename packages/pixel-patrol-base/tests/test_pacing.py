"""Batch pacing for local workers: every file once and in order, ramped at the start, and a
tail cut small enough that no worker runs on alone with a large batch."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pixel_patrol_base.discovery import FileEntry
from pixel_patrol_base.pacing import MIN_TAIL_BATCH, RAMP, TAIL_SHARE, paced
from pixel_patrol_base.planning import FileRef, batch_files


def _refs(n: int) -> list[FileRef]:
    return [FileRef(i, FileEntry(f"/d/f{i}", "/d", ".", 1000, 0)) for i in range(n)]


def _sizes(n: int, workers: int, known: bool, max_images: int = 200) -> list[int]:
    tasks = batch_files(_refs(n), 2**30, max_images)
    return [len(b.files) for b in paced(tasks, workers, lambda: n if known else None)]


@settings(deadline=None)
@given(n=st.integers(0, 3000), workers=st.integers(1, 8), known=st.booleans(), max_images=st.integers(1, 300))
def test_every_file_once_in_order(n: int, workers: int, known: bool, max_images: int) -> None:
    tasks = batch_files(_refs(n), 2**30, max_images)
    out = list(paced(tasks, workers, lambda: n if known else None))
    assert [r.index for b in out for r in b.files] == list(range(n))
    assert all(1 <= len(b.files) <= max_images for b in out)


def test_ramp_at_the_start() -> None:
    assert _sizes(2000, 2, known=False, max_images=1000)[: len(RAMP)] == list(RAMP)
    assert _sizes(2000, 2, known=True, max_images=1000)[: len(RAMP)] == list(RAMP)


def test_tail_shrinks_when_the_run_size_is_known() -> None:
    sizes = _sizes(2000, 2, known=True)
    given = 0
    for s in sizes:
        left = 2000 - given
        assert s <= max(MIN_TAIL_BATCH, -(-left // (TAIL_SHARE * 2)))
        given += s
    assert sizes[-1] <= MIN_TAIL_BATCH
    assert max(sizes[-4:]) <= MIN_TAIL_BATCH


def test_unknown_run_size_keeps_planner_batches() -> None:
    sizes = _sizes(2000, 2, known=False)
    assert sizes[-3:] == [200, 200, 200]
