"""Pinning a distribution's public names, for its own tests.

What a package exports (its modules' ``__all__``) and what its entry points name is what users
and plugin authors build on; a test that lists them makes every change to that surface show
up in review. Every package of the project, and any plugin, pins its names with one call.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from importlib.metadata import distribution

__all__ = ["check_public_names"]


def check_public_names(dist: str, public: Mapping[str, Sequence[str]]) -> None:
    """Raise ``AssertionError`` unless each module in ``public`` exports exactly the listed
    names (sorted, all defined) and every entry point of distribution ``dist`` names one of
    them."""
    for module, names in sorted(public.items()):
        mod = importlib.import_module(module)
        exported = sorted(getattr(mod, "__all__", []))
        if exported != sorted(names):
            raise AssertionError(f"{module}.__all__ is {exported}, pinned {sorted(names)}")
        missing = [n for n in names if not hasattr(mod, n)]
        if missing:
            raise AssertionError(f"{module} does not define {missing}")
    points = distribution(dist).entry_points
    if not points:
        raise AssertionError(f"{dist} declares no entry points")
    for ep in points:
        module, _, attr = ep.value.partition(":")
        if attr not in public.get(module, ()):
            raise AssertionError(f"{dist}: {ep.group} {ep.name} -> {ep.value} is not a pinned public name")
