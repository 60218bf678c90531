"""One error hierarchy for Pixel Patrol.

Every message names the thing that went wrong (a file, an option, a plugin) and, where there is
one, the next step for the user. The CLI prints ``str(error)`` on one line; no traceback.
"""

from __future__ import annotations

__all__ = [
    "MAX_CAUSE",
    "ContractError",
    "ImageReadError",
    "MissingDependencyError",
    "PixelPatrolError",
    "PluginError",
    "ReportError",
    "SettingsError",
    "exception_text",
    "one_line",
]

MAX_CAUSE = 400
"""Longest cause text kept in an error row or an :class:`ImageReadError`: reader messages can
embed whole XML documents, and the report keeps one short line per failure."""


def one_line(text: str, limit: int | None = MAX_CAUSE) -> str:
    """``text`` on one line (whitespace runs collapsed), cut to ``limit`` characters with "…"."""
    flat = " ".join(str(text).split())
    return flat if limit is None or len(flat) <= limit else flat[: limit - 1] + "…"


def exception_text(exc: BaseException, limit: int | None = MAX_CAUSE) -> str:
    """``"Type: message"`` of ``exc`` (just the type when it has no message) on one line."""
    text = " ".join(str(exc).split())
    return one_line(f"{type(exc).__name__}: {text}" if text else type(exc).__name__, limit)


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
        self.cause = one_line(str(cause)) or "unknown error"
        self.reader = reader
        where = f" (reader {reader})" if reader else ""
        super().__init__(f"{self.path}: {self.cause}{where}")

    @classmethod
    def from_exception(cls, path: object, exc: BaseException, reader: str | None) -> ImageReadError:
        """The error for ``exc`` raised while ``reader`` read ``path``: its type and message on
        one line (readers raise anything: ``struct.error``, ``KeyError``, codec errors ...)."""
        return cls(path, exception_text(exc), reader)


class ReportError(PixelPatrolError):
    """The Parquet report could not be written or read."""
