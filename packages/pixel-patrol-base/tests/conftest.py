"""Shared fixtures for the base package tests: small folders written into tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from plugin_env import acme  # noqa: F401 - fixture: a fake third-party plugin distribution


def write(path: Path, data: bytes = b"x") -> Path:
    """Create ``path`` (and its folders) with ``data``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A base folder with two conditions, nested folders, hidden files and mixed extensions."""
    base = tmp_path / "data"
    write(base / "control" / "a.tif", b"1" * 10)
    write(base / "control" / "sub" / "b.PNG", b"2" * 20)
    write(base / "control" / ".hidden.tif", b"h")
    write(base / "treated" / "c.ome.tif", b"3" * 30)
    write(base / "treated" / "notes.txt", b"4" * 40)
    write(base / ".git" / "config", b"g")
    write(base / "top.tif", b"5" * 50)
    return base
