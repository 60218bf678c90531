"""Leave the process as soon as a command is done, without tearing the interpreter down.

A finished command still spends 0.1-0.25 s in interpreter teardown: freeing thousands of
modules' objects, numba's type registry and compiled code, Arrow's memory pools. Nothing of
it is needed: the operating system reclaims the memory of a process that exits. That is a
fifth of a one-file run, paid on every command.

What an exit must do is still done: every ``atexit`` clean-up runs (log files flushed and
closed, child processes stopped, temporary folders removed) and both standard streams are
flushed. Objects are not finalised one by one; the commands close what they write (reports,
journals, pools) before they return, and do not rely on finalisers.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from collections.abc import Callable
from typing import NoReturn

FLUSH_FAILED = 120
"""Exit status when the standard streams cannot be flushed (as Python's own exit)."""


def run_then_exit(command: Callable[[], object]) -> NoReturn:
    """Run ``command`` (a console entry point that may raise ``SystemExit``), then exit.

    An exception other than ``SystemExit`` (an interrupt, a bug) takes Python's normal path:
    its traceback and the usual teardown, exactly as without this function.
    """
    try:
        command()
        code = 0
    except SystemExit as stop:
        code = _status(stop.code)
    atexit._run_exitfuncs()  # the clean-ups a normal exit runs (no public name for them)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe or stream
        code = code or FLUSH_FAILED
    os._exit(code)


def _status(code: object) -> int:
    """The exit status Python gives ``sys.exit(code)``; a message is printed to stderr."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    with contextlib.suppress(OSError, ValueError):
        print(code, file=sys.stderr)
    return 1


__all__ = ["run_then_exit"]
