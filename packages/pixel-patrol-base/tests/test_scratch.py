"""per_thread: one object per (thread, owner, factory), kept between calls."""

from __future__ import annotations

import threading

from pixel_patrol_base.scratch import per_thread


class Buffers:
    pass


class Other:
    pass


def test_same_thread_gets_the_same_object_per_owner() -> None:
    first = per_thread("kernel-a", Buffers)
    assert per_thread("kernel-a", Buffers) is first
    assert per_thread("kernel-b", Buffers) is not first
    assert isinstance(per_thread("kernel-a", Other), Other)


def test_threads_do_not_share() -> None:
    mine = per_thread("kernel-a", Buffers)
    theirs: list[Buffers] = []
    t = threading.Thread(target=lambda: theirs.extend([per_thread("kernel-a", Buffers)] * 2))
    t.start()
    t.join()
    assert theirs[0] is theirs[1]
    assert theirs[0] is not mine
