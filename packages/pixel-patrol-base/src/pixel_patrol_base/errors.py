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
    """A loader or processor is unknown, failed to import or breaks its contract (exit code 2)."""


class ContractError(PluginError):
    """A plugin returned something its declarations do not allow, while a run was processing.

    Raised by the engine (missing or undeclared columns, wrong shapes, values that do not fit
    the declared type). Unlike a processor that fails on one odd image, this says the plugin is
    broken for every image, so the run stops instead of writing an error row per image.
    ``path`` (the file being processed, when known) is added with :meth:`at`.
    """

    def __init__(self, message: str, path: str | None = None) -> None:
        self.message = message
        self.path = path
        super().__init__(f"{message} (while processing {path})" if path else message)

    def __reduce__(self) -> tuple[type[ContractError], tuple[str, str | None]]:
        """Pickle with both fields, so the error crosses from Dask workers intact."""
        return (type(self), (self.message, self.path))

    def at(self, path: str) -> ContractError:
        """The same error naming ``path``, unless it names a file already."""
        return self if self.path else ContractError(self.message, path)


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
