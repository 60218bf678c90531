"""One error hierarchy for Pixel Patrol.

Every message names the thing that went wrong (a file, an option, a plugin) and, where there is
one, the next step for the user. The CLI prints ``str(error)`` on one line; no traceback.
"""

from __future__ import annotations


class PixelPatrolError(Exception):
    """Base class of every error Pixel Patrol raises on purpose."""


class SettingsError(PixelPatrolError, ValueError):
    """A setting or command-line option is invalid (CLI exit code 2)."""


class PluginError(PixelPatrolError):
    """A loader or processor is unknown or failed to import."""


class MissingDependencyError(PixelPatrolError, ImportError):
    """An optional package needed for a file format is not installed."""


class ImageReadError(PixelPatrolError):
    """A file could not be opened or decoded by a loader.

    Parameters
    ----------
    path
        The file that failed.
    cause
        One line saying why (already human readable).
    reader
        Which reader was used, when known.
    """

    def __init__(self, path: object, cause: str, reader: str | None = None) -> None:
        self.path = str(path)
        self.cause = " ".join(str(cause).split()) or "unknown error"
        self.reader = reader
        where = f" (reader {reader})" if reader else ""
        super().__init__(f"{self.path}: {self.cause}{where}")


class ReportError(PixelPatrolError):
    """The Parquet report could not be written or read."""
