"""Where the shared real-data files are, and what a test does when they are missing.

The files (made by other software, read-only) live in ``shared/realdata`` beside the
repository: ``<repository>/../shared/realdata``, wherever the repository is cloned.
``PIXEL_PATROL_REALDATA`` points elsewhere. A test whose files are missing is skipped with a
reason naming the path it looked at; with ``PIXEL_PATROL_REQUIRE_REALDATA=1`` (set by CI) it
fails instead, so a run cannot pass without them by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

ENV = "PIXEL_PATROL_REALDATA"
REQUIRE_ENV = "PIXEL_PATROL_REQUIRE_REALDATA"
REPOSITORY = Path(__file__).resolve().parents[3]
REALDATA = Path(os.environ[ENV]) if os.environ.get(ENV) else REPOSITORY.parent / "shared" / "realdata"


def missing(path: Path) -> NoReturn:
    """Skip the running test because ``path`` is absent (fail when real data is required)."""
    reason = (
        f"real data {path} not found (looked in {REALDATA}: <repository>/../shared/realdata,"
        f" or the folder {ENV} names)"
    )
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}; {REQUIRE_ENV}=1 requires it")
    pytest.skip(reason)


def require(rel: str = "") -> Path:
    """``REALDATA / rel``, or skip (fail when required) when it does not exist."""
    path = REALDATA / rel
    if not path.exists():
        missing(path)
    return path


def listing(*dirs: str) -> list[str]:
    """``"dir/name"`` of every entry of the real-data folders ``dirs``; when the folder is
    missing, one placeholder per folder, so the parametrised test still runs and skips (or
    fails) rather than vanishing from the run."""
    out = []
    for d in dirs:
        folder = REALDATA / d
        out += [f"{d}/{p.name}" for p in sorted(folder.iterdir())] if folder.is_dir() else [f"{d}/(missing)"]
    return out
