"""The one error type the command turns into a single stderr line and an exit code."""

from __future__ import annotations

USAGE = 2
"""Exit code for arguments that can never work (shared with ``pixel-patrol process``)."""

FAILURE = 1
"""Exit code for everything else: SLURM unreachable, workers that never came, a failed run."""


class LaunchError(Exception):
    """A problem the user can act on, reported as one line instead of a traceback.

    Parameters
    ----------
    message
        The text printed after ``pixel-patrol-slurm: error:``. Empty means "print nothing"
        (used when the forwarded command already printed what the user asked for, e.g. help).
    exit_code
        :data:`USAGE` for bad arguments, :data:`FAILURE` otherwise.
    """

    def __init__(self, message: str, exit_code: int = FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
