"""Errors of the loaders besides base's ``ImageReadError.from_exception`` (reader failures).

A missing optional reader leaves a loader as :class:`MissingDependencyError` naming the package
to install; :class:`NeedsPlugin` sends a file to its bioio plugin.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pixel_patrol_base.errors import MissingDependencyError
from pixel_patrol_base.formats import install_hint


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
