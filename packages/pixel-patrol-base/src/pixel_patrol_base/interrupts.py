"""Ctrl-C and SIGTERM that never cut a journal write in half.

The command line routes SIGINT and SIGTERM to :func:`handler`. Outside a :func:`deferred`
block it raises ``KeyboardInterrupt`` at once; inside one it only remembers the signal and
raises when the block ends, so a part file and the done list that goes with it are always
written together. (Without this handler installed, e.g. in a notebook, :func:`deferred` does
nothing and Python's default behaviour applies.)
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_depth = 0
_pending = False


def handler(signum: int, frame: Any) -> None:
    """Signal handler: raise ``KeyboardInterrupt`` now, or at the end of a deferred block."""
    global _pending
    if _depth:
        _pending = True
    else:
        raise KeyboardInterrupt


@contextmanager
def deferred() -> Iterator[None]:
    """Hold interrupts until the block is done."""
    global _depth, _pending
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending:
            _pending = False
            raise KeyboardInterrupt


@contextmanager
def installed() -> Iterator[None]:
    """Route SIGINT and SIGTERM to :func:`handler` for the duration of the block."""
    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
