"""Plugin registry: loaders and processors found through entry points, loaded lazily.

Groups: ``pixel_patrol.loaders`` and ``pixel_patrol.processors``; one entry per class, the entry
name is the plugin id and must equal the class's ``NAME``. Nothing is imported until a plugin is
asked for, so ``pixel-patrol --help`` stays instant and a broken plugin only hurts when used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pixel_patrol_base.contracts import Loader, Processor
from pixel_patrol_base.errors import PluginError

LOADER_GROUP = "pixel_patrol.loaders"
PROCESSOR_GROUP = "pixel_patrol.processors"

log = logging.getLogger(__name__)

KNOWN_PACKAGES = {
    "bioio": "pixel-patrol-loader-bio",
    "tifffile": "pixel-patrol-loader-bio",
    "zarr": "pixel-patrol-loader-bio",
    "raster-quality": "pixel-patrol-image",
    "raster-compression": "pixel-patrol-image",
}
"""Plugins of this project's optional packages, so a missing one is named with its package."""


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """One installed plugin, as listed by ``pixel-patrol list-plugins``."""

    id: str
    group: str
    package: str
    version: str
    target: str


def _entry_points(group: str) -> dict[str, EntryPoint]:
    eps = sorted(entry_points(group=group), key=lambda e: e.name)
    return {ep.name: ep for ep in eps}


def list_plugins(group: str) -> list[PluginInfo]:
    """Installed plugins of ``group`` with the distribution that provides each."""
    out = []
    for name, ep in _entry_points(group).items():
        dist = ep.dist
        out.append(
            PluginInfo(
                id=name,
                group=group,
                package=dist.name if dist else "?",
                version=dist.version if dist else "?",
                target=ep.value,
            )
        )
    return out


_REGISTERED: dict[tuple[str, str], Any] = {}


def register(group: str, cls: Any) -> None:
    """Make a plugin class available in this process without an entry point.

    For notebooks and tests: the class must still be importable by workers in other
    processes (it is pickled by reference).
    """
    _REGISTERED[(group, cls.NAME)] = cls
    _load_class.cache_clear()


def unregister(group: str, name: str) -> None:
    """Undo :func:`register`."""
    _REGISTERED.pop((group, name), None)
    _load_class.cache_clear()


def available_ids(group: str) -> list[str]:
    """Sorted ids of the plugins installed (or registered) for ``group``."""
    return sorted(set(_entry_points(group)) | {n for g, n in _REGISTERED if g == group})


def _unknown(group: str, name: str) -> PluginError:
    kind = "loader" if group == LOADER_GROUP else "processor"
    known = ", ".join(available_ids(group)) or "none installed"
    if name in KNOWN_PACKAGES:
        return PluginError(
            f"{kind} '{name}' is not installed (pip install {KNOWN_PACKAGES[name]}); available: {known}"
        )
    return PluginError(f"unknown {kind} '{name}'; available: {known}")


@cache
def _load_class(group: str, name: str) -> Any:
    if (group, name) in _REGISTERED:
        return _REGISTERED[(group, name)]
    eps = _entry_points(group)
    kind = "loader" if group == LOADER_GROUP else "processor"
    if name not in eps:
        raise _unknown(group, name)
    try:
        cls = eps[name].load()
    except Exception as exc:
        raise PluginError(
            f"{kind} '{name}' ({eps[name].value}) failed to import: {type(exc).__name__}: {exc}"
        ) from exc
    if getattr(cls, "NAME", None) != name:
        raise PluginError(f"{kind} entry point '{name}' names a class whose NAME is {getattr(cls, 'NAME', None)!r}")
    return cls


def get_loader(name: str) -> Loader:
    """Instantiate the loader with id ``name`` (:class:`PluginError` lists the available ones)."""
    loader: Loader = _load_class(LOADER_GROUP, name)()
    return loader


def get_processor(name: str) -> Processor:
    """Instantiate the processor with id ``name``."""
    proc: Processor = _load_class(PROCESSOR_GROUP, name)()
    return proc


def select_processors(
    include: tuple[str, ...] | list[str] = (), exclude: tuple[str, ...] | list[str] = ()
) -> list[Processor]:
    """Processors to run: all installed ones, or ``include`` only (then ``exclude`` is ignored).

    Unknown ids in either list raise :class:`PluginError`, so a typo never silently drops a
    processor. An installed processor that fails to import is skipped with a warning naming
    it, unless it was asked for with ``include``.
    """
    known = available_ids(PROCESSOR_GROUP)
    for name in [*include, *exclude]:
        if name not in known:
            raise _unknown(PROCESSOR_GROUP, name)
    if include:
        return [get_processor(n) for n in dict.fromkeys(include)]
    out: list[Processor] = []
    for name in known:
        if name in set(exclude):
            continue
        try:
            out.append(get_processor(name))
        except PluginError as exc:
            log.warning("skipping %s (exclude it with --processors-exclude %s)", exc, name)
    return out
