"""Provenance: which code shaped a report's rows, recorded in its footer and its fingerprint.

Rows depend on the core (``pixel-patrol-base``: discovery, blocks, rollup), on the distribution
that supplied each selected plugin, and on the libraries those plugins decode or compute with
(bioio and its reader plugins, tifffile, zarr, Pillow, numba, numpy ...). Each plugin names the
latter in ``LIBRARIES`` (distribution names); a plugin that does not is taken to depend on every
direct requirement of its distribution, which errs on the side of reprocessing.

:func:`provenance` is what ``--resume`` and ``--incremental`` compare (the fingerprint's
``versions``): any difference in it means rows computed by other code, so they are not reused.
A change in a distribution no selected plugin depends on (the SLURM launcher, the CLI's
terminal libraries, Dask) does not count. Policy: docs/plugins.md, "Provenance".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import Distribution, PackageNotFoundError
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pixel_patrol_base.contracts import Loader, Processor

CORE = "pixel-patrol-base"
"""The distribution whose code turns plugin values into rows."""

RUNTIME = ("pixel-patrol", "pyarrow", "dask", "distributed")
"""Listed in the footer for the record; they do not change values, so not in the fingerprint."""

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    """PEP 503 form of a distribution name (``Pillow`` → ``pillow``, ``a_b`` → ``a-b``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_version(dist: str) -> str | None:
    """Installed version of distribution ``dist``, or ``None`` when it is not installed."""
    headers = _headers(dist)
    if headers is None:
        return None
    found = _VERSION.search(headers)
    return found.group(1) if found else Distribution.from_name(dist).version


def _headers(dist: str) -> str | None:
    """The header block of ``dist``'s metadata, read afresh (an upgrade in a running process
    shows), or ``None`` when it is not installed.

    The few fields needed are taken from it with a regular expression: parsing the whole file
    as a mail message (``importlib.metadata.version``) cost about 0.2 s of CPU per run.
    """
    try:
        found = Distribution.from_name(dist)
    except PackageNotFoundError:
        return None
    text = found.read_text("METADATA") or found.read_text("PKG-INFO") or ""
    return text.replace("\r\n", "\n").partition("\n\n")[0]


_VERSION = re.compile(r"^Version:[ \t]*(\S+)[ \t]*$", re.MULTILINE)
_REQUIRES = re.compile(r"^Requires-Dist:[ \t]*(.+?)[ \t]*$", re.MULTILINE)


def direct_requirements(dist: str) -> tuple[str, ...]:
    """Names of the run-time requirements of ``dist`` (extras left out)."""
    headers = _headers(dist)
    if headers is None:
        return ()
    reqs = _REQUIRES.findall(headers)
    names = []
    for req in reqs:
        marker = req.partition(";")[2]
        match = _NAME.match(req)
        if match and "extra" not in marker:
            names.append(canonical(match.group(1)))
    return tuple(dict.fromkeys(names))


def plugin_libraries(cls: type, distribution: str | None) -> tuple[str, ...]:
    """Libraries that shape a plugin's output: its ``LIBRARIES``, else its distribution's
    direct requirements (none for a class registered in the running process)."""
    from pixel_patrol_base.contracts import SupportsLibraries

    if isinstance(cls, SupportsLibraries) and cls.LIBRARIES is not None:
        return tuple(canonical(n) for n in cls.LIBRARIES)
    return direct_requirements(distribution) if distribution else ()


def _versions(names: Iterable[str]) -> dict[str, str]:
    """Installed versions of ``names`` (those not installed are left out), sorted by name."""
    found = {n: installed_version(n) for n in sorted(set(names))}
    return {n: v for n, v in found.items() if v is not None}


def plugin_record(group: str, plugin: Loader | Processor) -> dict[str, Any]:
    """Distribution, version and library versions of one selected plugin instance."""
    from pixel_patrol_base.plugins import origin

    where = origin(group, plugin.NAME)
    dist = canonical(where.distribution) if where.distribution else None
    return {
        "distribution": dist,
        "version": installed_version(dist) if dist else None,
        "target": where.target,
        "libraries": _versions(plugin_libraries(type(plugin), dist)),
    }


def provenance(loader: Loader | None, processors: Sequence[Processor]) -> dict[str, Any]:
    """What shaped the rows of a run with these plugins (footer ``plugins``, fingerprint).

    ``{"core": {name: version}, "loader": {id: record}, "processors": {id: record}}`` where a
    record is :func:`plugin_record`.
    """
    from pixel_patrol_base.plugins import LOADER_GROUP, PROCESSOR_GROUP

    return {
        "core": _versions([CORE]),
        "loader": {loader.NAME: plugin_record(LOADER_GROUP, loader)} if loader else {},
        "processors": {p.NAME: plugin_record(PROCESSOR_GROUP, p) for p in processors},
    }


def package_versions(prov: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Flat ``{distribution: version}`` for the footer: the core, the run-time libraries, and
    every distribution and library named in ``prov``."""
    names = [CORE, *RUNTIME]
    for group in ("loader", "processors"):
        for record in (prov or {}).get(group, {}).values():
            names += [record["distribution"]] if record["distribution"] else []
            names += list(record["libraries"])
    return _versions(names)


__all__ = [
    "CORE",
    "canonical",
    "direct_requirements",
    "installed_version",
    "package_versions",
    "plugin_libraries",
    "plugin_record",
    "provenance",
]
