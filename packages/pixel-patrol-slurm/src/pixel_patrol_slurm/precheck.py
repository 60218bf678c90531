"""Check the forwarded arguments with ``process``'s own parser before asking SLURM for anything.

A typo behind ``--`` would otherwise only show once the jobs have left the queue, which on
a busy cluster can take hours. The check parses the arguments exactly as ``pixel-patrol
process`` would (option names, types, required arguments, existing paths) but does not run
the command. Errors found only while running (e.g. an unknown loader id) still end the run
through ``process``'s own exit code 2.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from pixel_patrol_slurm.errors import USAGE, LaunchError
from pixel_patrol_slurm.parsing import exit_classes, exit_code_of, message_of, usage_classes


def process_click_command() -> Any | None:
    """The click command behind ``pixel-patrol process``, or ``None`` if it cannot be found.

    ``None`` only skips this early check; the real run still reports bad arguments.
    """
    try:
        module = importlib.import_module("pixel_patrol_base.cli")
        import typer
    except ImportError:
        return None
    app = getattr(module, "app", None)
    if isinstance(app, typer.Typer):
        app = typer.main.get_command(app)
    commands = getattr(app, "commands", None)
    return commands.get("process") if isinstance(commands, dict) else None


def check_forwarded(forwarded: Sequence[str], command: Any | None = None) -> None:
    """Parse ``forwarded`` with the ``process`` command without invoking it.

    Raises
    ------
    LaunchError
        (exit 2) with the parser's message for a bad argument. For an eager option such as
        ``--help`` the parser has already printed what was asked; the error then carries an
        empty message and the parser's exit code, so nothing is submitted.
    """
    command = command if command is not None else process_click_command()
    if command is None:
        return
    try:
        ctx = command.make_context("pixel-patrol process", list(forwarded))
        ctx.close()
    except exit_classes() as exc:
        raise LaunchError("", exit_code_of(exc, 0)) from None
    except usage_classes() as exc:
        raise LaunchError(
            f"bad argument for pixel-patrol process: {message_of(exc)}", exit_code_of(exc, USAGE)
        ) from None
