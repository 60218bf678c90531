"""Interrupted runs keep completed work; --resume finishes with the same report."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import tifffile


@pytest.fixture
def many(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    base = tmp_path / "many"
    for i in range(120):
        (base / f"c{i % 2}").mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(base / f"c{i % 2}" / f"f{i:02d}.tif", rng.integers(0, 999, (3, 24, 24), dtype=np.uint16), metadata={"axes": "ZYX"}, photometric="minisblack")
    return base


def cli(base: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "pixel_patrol_base", "process", str(base), "-o", str(out),
        "--loader", "tifffile", "--max-workers", "1", "--max-images-per-task", "1",
        "--rows-per-part", "1", "--processors-include", "raster-basic",
        "--processors-include", "raster-histogram", *extra,
    ]


def content(path: Path) -> object:
    return pq.read_table(path).drop_columns(["modification_date"])


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM", "SIGINT"])
def test_kill_then_resume_equals_uninterrupted(many: Path, tmp_path: Path, how: str) -> None:
    ref = tmp_path / "ref.parquet"
    subprocess.run(cli(many, ref), check=True, capture_output=True)
    rng = np.random.default_rng(hash(how) % 1000)
    out = tmp_path / "r.parquet"
    parts = out.with_name(f".{out.name}.parts")
    resumed_before = []
    done = parts / "done.txt"
    for delay in rng.uniform(0.0, 0.4, size=3):
        before = len(done.read_text().splitlines()) if done.exists() else 0
        proc = subprocess.Popen(cli(many, out, "--resume"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if done.exists() and len(done.read_text().splitlines()) > before:
                break  # this run has saved some work: interrupt it at a random point after that
            time.sleep(0.01)
        time.sleep(delay)
        proc.send_signal(getattr(signal, how))
        _, err = proc.communicate(timeout=60)
        if proc.returncode == 0:
            break
        assert not out.exists()
        if proc.returncode == 130:
            assert b"--resume" in err.splitlines()[-1]
        resumed_before.append(len(done.read_text().splitlines()) if done.exists() else 0)
    res = subprocess.run(cli(many, out, "--resume"), capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    got, want = content(out), content(ref)
    diff = [c for c in want.column_names if not got.column(c).equals(want.column(c))]
    assert not diff, (diff, _where(got, want))
    assert not parts.exists()
    if how != "SIGKILL":
        assert max(resumed_before, default=0) > 0  # something survived the interruption


def test_resume_with_other_settings_is_refused(many: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    proc = subprocess.Popen(cli(many, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    parts = out.with_name(f".{out.name}.parts")
    while not (parts / "done.txt").exists() and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    res = subprocess.run([*cli(many, out, "--resume"), "--slice-size", "Z=2"], capture_output=True, text=True)
    assert res.returncode == 2 and "other settings" in res.stderr
    assert os.path.isdir(out.with_name(f".{out.name}.parts"))


def _where(got: object, want: object) -> tuple:
    a, b = got.column("imported_path").to_pylist(), want.column("imported_path").to_pylist()  # type: ignore[attr-defined]
    i = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
    return len(a), len(b), i, a[i - 2 : i + 6] if i is not None else None, b[i - 2 : i + 6] if i is not None else None
