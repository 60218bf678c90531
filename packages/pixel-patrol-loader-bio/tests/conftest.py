"""Fixtures for the loader tests: private copies of the shared real-data files."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from realdata import require


def copy_plain(src: Path, dst: Path) -> Path:
    """Copy a file or folder with fresh, writable permissions (the originals are read-only)."""
    if src.is_dir():
        for root, _dirs, files in os.walk(src):
            target = dst / Path(root).relative_to(src)
            target.mkdir(parents=True, exist_ok=True)
            for name in files:
                shutil.copyfile(Path(root) / name, target / name)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    return dst


@pytest.fixture
def real_copy(tmp_path: Path) -> Callable[[str], Path]:
    """``real_copy("tiff/x.tif")`` copies a real-data entry into ``tmp_path`` and returns it."""

    def make(rel: str) -> Path:
        return copy_plain(require(rel), tmp_path / Path(rel).name)

    return make
