"""Plugin registry: loaders and processors found through entry points, loaded lazily.

Groups: ``pixel_patrol.loaders`` and ``pixel_patrol.processors``; one entry per class, the entry
name is the plugin id and must equal the class's ``NAME``. Nothing is imported until a plugin is
asked for, so ``pixel-patrol --help`` stays instant and a broken plugin only hurts when used.
A plugin is checked against its contract when it is loaded (:mod:`pixel_patrol_base.plugin_checks`);
every error names the plugin and the distribution that supplied it (:func:`describe`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Protocol

from pixel_patrol_base.contracts import Loader, Processor
from pixel_patrol_base.errors import PluginError
from pixel_patrol_base.plugin_checks import (
    check_instance,
    check_loader_class,
    check_processor_class,
)

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


def install_hint(package: str) -> str:
    """A command that installs *our* ``package``, never the registry's package of that name.

    The names of this project's packages also exist in the public registry, as an unrelated
    project; a bare ``pip install <name>`` would fetch that one and replace this base. All our
    packages carry one version, with a local label the registry cannot host, so pinning it
    exactly can only be satisfied by wheels built from this repository (docs/install.md).
    """
    from pixel_patrol_base import __version__

    return (
        f"pip install --find-links <wheels> '{package}=={__version__}', with <wheels> built by"
        " 'uv build --all-packages' in the Pixel Patrol repository (see docs/install.md)"
    )


@dataclass(frozen=True, slots=True)
class PluginOrigin:
    """Where a plugin class comes from: its distribution, or a :func:`register` call."""

    distribution: str | None
    version: str | None
    target: str

    def __str__(self) -> str:
        if self.distribution is None:
            return f"registered in this process, {self.target}"
        return f"{self.distribution} {self.version}"


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """One installed plugin, as listed by ``pixel-patrol list-plugins``."""

    id: str
    group: str
    package: str
    version: str
    target: str


class _Selectable(Protocol):
    """What ``entry_points()`` returns (``SelectableGroups`` before Python 3.12)."""

    def select(self, *, group: str) -> Iterable[EntryPoint]: ...


@cache
def _installed_entry_points() -> _Selectable:
    """Every installed entry point, read once per process until :func:`refresh`: a read scans
    every installed distribution whatever the group asked for, so the groups share one."""
    return entry_points()


@cache
def _entry_points(group: str) -> dict[str, EntryPoint]:
    """Entry points of ``group`` by name."""
    eps = sorted(_installed_entry_points().select(group=group), key=lambda e: e.name)
    return {ep.name: ep for ep in eps}


def refresh() -> None:
    """Forget what was read about installed plugins (after installing one into this process)."""
    _installed_entry_points.cache_clear()
    _entry_points.cache_clear()
    _load_class.cache_clear()
    origin.cache_clear()


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
    refresh()


def unregister(group: str, name: str) -> None:
    """Undo :func:`register`."""
    _REGISTERED.pop((group, name), None)
    refresh()


def available_ids(group: str) -> list[str]:
    """Sorted ids of the plugins installed (or registered) for ``group``."""
    return sorted(set(_entry_points(group)) | {n for g, n in _REGISTERED if g == group})


def _kind(group: str) -> str:
    return "loader" if group == LOADER_GROUP else "processor"


def _unknown(group: str, name: str) -> PluginError:
    kind = _kind(group)
    known = ", ".join(available_ids(group)) or "none installed"
    if name in KNOWN_PACKAGES:
        return PluginError(
            f"{kind} '{name}' is not installed; it comes with {KNOWN_PACKAGES[name]}:"
            f" {install_hint(KNOWN_PACKAGES[name])}; available: {known}"
        )
    return PluginError(f"unknown {kind} '{name}'; available: {known}")


@cache
def origin(group: str, name: str) -> PluginOrigin:
    """The distribution (and version) that supplies plugin ``name`` of ``group``.

    Kept until :func:`refresh`: every plugin error message and every loaded plugin names it,
    and each reading of a distribution's name and version parses its whole metadata file.
    """
    if (group, name) in _REGISTERED:
        cls = _REGISTERED[(group, name)]
        return PluginOrigin(None, None, f"{cls.__module__}:{cls.__qualname__}")
    ep = _entry_points(group).get(name)
    if ep is None:
        raise _unknown(group, name)
    dist = ep.dist
    return PluginOrigin(dist.name if dist else None, dist.version if dist else None, ep.value)


def describe(group: str, name: str) -> str:
    """``processor 'x' (from dist 1.2)``: how every plugin error names its plugin."""
    try:
        where = str(origin(group, name))
    except PluginError:
        where = "origin unknown"
    return f"{_kind(group)} '{name}' (from {where})"


@cache
def _load_class(group: str, name: str) -> Any:
    if (group, name) in _REGISTERED:
        cls = _REGISTERED[(group, name)]
    else:
        eps = _entry_points(group)
        if name not in eps:
            raise _unknown(group, name)
        try:
            cls = eps[name].load()
        except Exception as exc:
            raise PluginError(
                f"{describe(group, name)} failed to import: {type(exc).__name__}: {exc}"
            ) from exc
    what = describe(group, name)
    if getattr(cls, "NAME", None) != name:
        raise PluginError(f"{what}: the entry point names a class whose NAME is {getattr(cls, 'NAME', None)!r}")
    if group == LOADER_GROUP:
        check_loader_class(cls, what)
    else:
        check_processor_class(cls, what)
    return cls


def _instantiate(group: str, name: str) -> Any:
    """An instance of the plugin, checked for callable methods and pickling."""
    cls = _load_class(group, name)
    what = describe(group, name)
    try:
        obj = cls()
    except Exception as exc:
        raise PluginError(f"{what} cannot be created without arguments: {type(exc).__name__}: {exc}") from exc
    check_instance(obj, "loader" if group == LOADER_GROUP else cls.KIND, what)
    return obj


def get_loader(name: str) -> Loader:
    """Instantiate the loader with id ``name``, checked against the loader contract.

    :class:`PluginError` (naming the plugin and its distribution) when it is unknown, fails to
    import or breaks its contract; see :mod:`pixel_patrol_base.plugin_checks`.
    """
    loader: Loader = _instantiate(LOADER_GROUP, name)
    return loader


def get_processor(name: str) -> Processor:
    """Instantiate the processor with id ``name``, checked against the processor contract."""
    proc: Processor = _instantiate(PROCESSOR_GROUP, name)
    return proc


def select_processors(
    include: tuple[str, ...] | list[str] = (), exclude: tuple[str, ...] | list[str] = ()
) -> list[Processor]:
    """Processors to run: all installed ones, or ``include`` only (then ``exclude`` is ignored).

    Unknown ids in either list raise :class:`PluginError`, so a typo never silently drops a
    processor. An installed processor that fails to import or breaks its contract is skipped
    with a warning naming it and its distribution, unless it was asked for with ``include``
    (then the error stops the run before any file is read).
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


__all__ = [
    "KNOWN_PACKAGES",
    "LOADER_GROUP",
    "PROCESSOR_GROUP",
    "PluginInfo",
    "PluginOrigin",
    "available_ids",
    "describe",
    "get_loader",
    "get_processor",
    "install_hint",
    "list_plugins",
    "origin",
    "refresh",
    "register",
    "select_processors",
    "unregister",
]
