"""Ctrl-C that arrives while the coordinator forks its workers is never lost.

Python runs the fork's hooks (``os.register_at_fork``) with exceptions ignored, so an interrupt
raised there used to be printed as "Exception ignored" and the run went on to the end; in the
new process, an interrupt before it ignores SIGINT unwound the coordinator's copied stack and
printed through its copy of the progress display. The pool holds Ctrl-C while it forks.
"""

from __future__ import annotations

import os
import signal
import sys

import pytest

from pixel_patrol_base import interrupts
from pixel_patrol_base.pool import LocalPool

_armed = {"parent": False}


def _interrupt_in_fork_hook() -> None:
    if _armed["parent"]:
        _armed["parent"] = False
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # give the handler bytecode boundaries to run at, inside the hook
            pass


os.register_at_fork(after_in_parent=_interrupt_in_fork_hook)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")
def test_ctrl_c_during_the_fork_of_a_worker_stops_the_start(capfd: pytest.CaptureFixture[str]) -> None:
    _armed["parent"] = True
    with interrupts.installed(), pytest.raises(KeyboardInterrupt):
        LocalPool(2, None)
    assert not _armed["parent"]  # the hook did run, inside a fork
    err = capfd.readouterr().err
    assert "Exception ignored" not in err and "Traceback" not in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")
def test_a_pool_started_without_interrupt_runs_tasks() -> None:
    with interrupts.installed():
        pool = LocalPool(1, None)
    try:
        pool.submit(_double, 21, "t")
        assert pool.next_done() == ("t", 42, None)
    finally:
        pool.close()


def _double(x: int, _ctx: object) -> int:
    return 2 * x
