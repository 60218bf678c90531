"""A scan through the API leaves the caller's logging alone: no handler is added to or removed
from the root logger, and its level is unchanged (configuring logging is the application's
business; the CLI does it for its own process)."""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from plugin_env import npy_folder

from pixel_patrol_base import api


def test_a_scan_in_this_process_leaves_the_root_logger_alone(
    acme: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # as in a script that configured nothing
    before = (list(root.handlers), root.level)
    data = npy_folder(tmp_path / "data")
    (data / "broken.npy").write_bytes(b"not an array")
    project = api.create_project("p", data, loader="npy-contract", output_path=tmp_path / "r.parquet")
    api.process_files(project, processors_include=["raster-basic"], max_workers=1)
    assert (list(root.handlers), root.level) == before
    errors = [e for e in pq.read_table(tmp_path / "r.parquet").column("error").to_pylist() if e]
    assert len(errors) == 1 and "not a .npy file" in errors[0]
