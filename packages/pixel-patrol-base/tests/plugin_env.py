"""Fixture helpers shared by the plugin contract and provenance tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from plugin_fixtures import NpyLoader, install_distribution

from pixel_patrol_base import plugins

LOADERS = {"npy-contract": "plugin_fixtures:NpyLoader", "npy-sloppy": "plugin_fixtures:SloppyLoader"}
PROCESSORS = {
    name: f"plugin_fixtures:{cls}"
    for name, cls in {
        "acme-mean": "MeanProc",
        "acme-extra": "ExtraColumn",
        "acme-shape": "WrongShape",
        "acme-floatcount": "FloatCounts",
        "acme-kind": "BadKind",
        "acme-shade": "Shade",
        "acme-shade-missing": "ShadeMissing",
        "acme-shade-type": "ShadeType",
    }.items()
}


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The distribution ``acme-plugins 1.0`` with the plugins of ``plugin_fixtures``."""
    site = tmp_path / "site"
    install_distribution(
        site, "acme-plugins", "1.0",
        {plugins.LOADER_GROUP: LOADERS, plugins.PROCESSOR_GROUP: PROCESSORS},
        requires=["numpy>=1.20", "pyarrow", "pytest; extra == 'test'"],
    )
    monkeypatch.syspath_prepend(str(site))
    plugins.refresh()
    NpyLoader.opened.clear()
    yield site
    plugins.refresh()


def npy_folder(base: Path, n: int = 3) -> Path:
    """``n`` small .npy images (2-D and 3-D) in ``base``."""
    base.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        shape = (3, 12, 14) if i % 2 else (12, 14)
        np.save(base / f"im{i}.npy", rng.integers(0, 1000, shape).astype(np.uint16))
    return base
