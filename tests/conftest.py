"""Fixtures for cross-package tests: small synthetic datasets in tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from PIL import Image

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo"


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A private copy of the bundled demo dataset."""
    import shutil

    dst = tmp_path / "demo"
    shutil.copytree(DEMO, dst)
    return dst


@pytest.fixture
def small_set(tmp_path: Path) -> Path:
    """Two conditions with PNG and TIFF files whose pixels the tests know."""
    rng = np.random.default_rng(7)
    base = tmp_path / "data"
    for cond in ("ctrl", "drug"):
        (base / cond).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (20, 30), dtype=np.uint8)).save(base / cond / f"p{i}.png")
            tifffile.imwrite(base / cond / f"t{i}.tif", rng.integers(0, 4000, (3, 16, 24), dtype=np.uint16), metadata={"axes": "ZYX"}, photometric="minisblack")
    return base


@pytest.fixture(scope="session")
def planted_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any], Path]:
    """The planted-problems dataset (tests/planted.py) scanned once: (report, planted, folder)."""
    from planted import scan, write_planted

    base = tmp_path_factory.mktemp("planted") / "data"
    expected = write_planted(base)
    return scan(base, base.parent / "planted.parquet"), expected, base


@pytest.fixture(scope="session")
def clean_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clean dataset (tests/planted.py) scanned once."""
    from planted import scan, write_clean

    base = tmp_path_factory.mktemp("clean") / "data"
    write_clean(base)
    return scan(base, base.parent / "clean.parquet")
