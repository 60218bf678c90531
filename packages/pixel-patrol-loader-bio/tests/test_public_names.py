"""The public names of pixel-patrol-loader-bio, pinned.

A name added to or dropped from a public module's ``__all__`` changes what users and plugin
authors may import; it must show up here, in review. Every entry point of the distribution
(plugins, commands) names a pinned public name.
"""

from __future__ import annotations

import importlib
from importlib.metadata import distribution

import pytest

DISTRIBUTION = "pixel-patrol-loader-bio"

PUBLIC = {
    "pixel_patrol_loader_bio": ["__version__"],
    "pixel_patrol_loader_bio.bioio_loader": ["BioioLoader"],
    "pixel_patrol_loader_bio.tifffile_loader": ["TifffileLoader"],
    "pixel_patrol_loader_bio.zarr_loader": ["ZarrLoader"],
}


@pytest.mark.parametrize(("module", "names"), sorted(PUBLIC.items()))
def test_public_names_are_pinned(module: str, names: list[str]) -> None:
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == names
    assert [n for n in names if not hasattr(mod, n)] == []


def test_entry_points_name_public_names() -> None:
    points = distribution(DISTRIBUTION).entry_points
    assert points, "the distribution declares entry points"
    for ep in points:
        module, _, attr = ep.value.partition(":")
        assert attr in PUBLIC.get(module, []), f"{ep.group} {ep.name} -> {ep.value} is not pinned"
