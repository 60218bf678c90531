"""Turning reader failures into the two errors the pipeline understands.

Readers raise anything (``struct.error``, ``KeyError``, ``ValueError``, ``zarr`` errors ...).
The pipeline records one line per failed file, so every failure leaves a loader as
:class:`ImageReadError` naming the reader, or as :class:`MissingDependencyError` naming the
package to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pixel_patrol_base.errors import ImageReadError, MissingDependencyError
from pixel_patrol_base.formats import install_hint

MAX_CAUSE = 300
"""Longest cause text kept; reader messages can embed whole XML documents."""


def read_error(path: object, exc: BaseException, reader: str | None) -> ImageReadError:
    """One-line :class:`ImageReadError` for ``exc`` raised while ``reader`` read ``path``."""
    text = " ".join(str(exc).split())
    cause = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if len(cause) > MAX_CAUSE:
        cause = cause[: MAX_CAUSE - 3] + "..."
    return ImageReadError(path, cause, reader)


def require(module: str, package: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` telling what to install.

    Parameters
    ----------
    module
        Import name, e.g. ``"bioio_czi"``.
    package
        Distribution to install, e.g. ``"bioio-czi"``.
    purpose
        What it is needed for, e.g. ``"to read .czi files"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{package} is needed {purpose} but is not installed; {install_hint(brings=package)}"
        ) from exc


class NeedsPlugin(Exception):
    """The ``bioio`` loader's own decoding cannot reproduce what the bioio plugin reports.

    Raised for file variants whose plugin result depends on plugin quirks that are not
    replicated (duplicate axis names, OME sizes that disagree with the stored axes, animated
    PNGs ...). The loader then opens the file with the plugin, so the report is unchanged.
    Never raised for unreadable files: those are :class:`ImageReadError`.
    """
