"""Split the command line at ``--`` and build the ``process`` command (pure, no I/O).

Everything before the first ``--`` configures the cluster; everything after it belongs to
``pixel-patrol process`` and is passed on verbatim, with only ``--scheduler`` added, so that a
user can copy a working local command line behind ``--`` unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pixel_patrol_slurm.errors import USAGE, LaunchError

SEPARATOR = "--"
SCHEDULER_FLAG = "--scheduler"
EXAMPLE = "pixel-patrol-slurm --jobs 4 -- DATA_DIR -o report.parquet --loader bioio"


def split_argv(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Return ``(cluster_args, forwarded_args)`` split at the first ``--``.

    Raises
    ------
    LaunchError
        (exit 2) when there is no ``--`` or nothing follows it: guessing which arguments
        were meant for ``process`` would silently run something else than asked.
    """
    args = list(argv)
    if SEPARATOR not in args:
        raise LaunchError(
            f"missing '--' before the arguments of pixel-patrol process, e.g. {EXAMPLE}", USAGE
        )
    cut = args.index(SEPARATOR)
    forwarded = args[cut + 1 :]
    if not forwarded:
        raise LaunchError(
            f"nothing after '--': give the arguments of pixel-patrol process, e.g. {EXAMPLE}",
            USAGE,
        )
    return args[:cut], forwarded


def _own_separator(forwarded: Sequence[str]) -> int:
    """Index of a ``--`` inside the forwarded arguments (``process``'s own), or their length."""
    args = list(forwarded)
    return args.index(SEPARATOR) if SEPARATOR in args else len(args)


def reject_scheduler(forwarded: Sequence[str]) -> None:
    """Refuse a forwarded ``--scheduler``: the address is the one of the cluster started here.

    Raises
    ------
    LaunchError
        (exit 2) if ``--scheduler`` or ``--scheduler=...`` appears among the options.
    """
    for arg in list(forwarded)[: _own_separator(forwarded)]:
        if arg == SCHEDULER_FLAG or arg.startswith(SCHEDULER_FLAG + "="):
            raise LaunchError(
                "remove --scheduler after '--': pixel-patrol-slurm sets it to its own cluster",
                USAGE,
            )


def process_command(forwarded: Sequence[str], address: str, python: str | None = None) -> list[str]:
    """Command line that runs ``process`` against the scheduler at ``address``.

    It runs through ``python -m pixel_patrol_base`` with this very interpreter, not whatever
    ``pixel-patrol`` comes first on ``PATH``, so the workers (also started with this
    interpreter) and the client always run the same installation. ``--scheduler`` goes
    before a forwarded ``--`` (if any) so that it is still read as an option.
    """
    args = list(forwarded)
    cut = _own_separator(args)
    return [
        python or sys.executable,
        "-m",
        "pixel_patrol_base",
        "process",
        *args[:cut],
        SCHEDULER_FLAG,
        address,
        *args[cut:],
    ]
