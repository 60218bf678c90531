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


def done_count(done: Path) -> int:
    return len(done.read_text().splitlines()) if done.exists() else 0


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM", "SIGINT"])
def test_kill_then_resume_equals_uninterrupted(many: Path, tmp_path: Path, how: str) -> None:
    """The guarantee: however a run is stopped, the report at -o is either absent or complete
    (never partial), and --resume then writes the same report as an uninterrupted run.

    Each run is stopped as soon as it has saved a fixed number of files more than the run
    before it (no random delays), so every interruption lands in the middle of the work.
    """
    ref = tmp_path / "ref.parquet"
    subprocess.run(cli(many, ref), check=True, capture_output=True)
    want = content(ref)
    out = tmp_path / "r.parquet"
    parts = out.with_name(f".{out.name}.parts")
    done = parts / "done.txt"
    saved = []
    for step in (10, 30, 30):
        before = done_count(done)
        proc = subprocess.Popen(cli(many, out, "--resume"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while proc.poll() is None and done_count(done) < before + step and time.monotonic() < deadline:
            time.sleep(0.005)
        proc.send_signal(getattr(signal, how))
        _, err = proc.communicate(timeout=60)
        if out.exists():  # the run got to its end before the signal: the report is whole
            assert content(out).equals(want)
            out.unlink()
        if proc.returncode == 130:
            assert b"--resume" in err.splitlines()[-1]
        saved.append(done_count(done))
    res = subprocess.run(cli(many, out, "--resume"), capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    got = content(out)
    diff = [c for c in want.column_names if not got.column(c).equals(want.column(c))]
    assert not diff, (diff, _where(got, want))
    assert not parts.exists()
    assert saved[0] >= 10 and saved == sorted(saved)  # work survived every interruption
    assert "resumed" in res.stderr


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


def test_resume_after_a_failed_final_write_gives_the_full_report(many: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk while the report is written: the run fails (exit 1 on the command line),
    nothing is listed as done without its rows on disk, and --resume writes the whole report."""
    import errno

    from pixel_patrol_base import api, report
    from pixel_patrol_base.errors import ReportError

    def scan(out: Path, **kw: object) -> None:
        project = api.create_project("r", many, loader="tifffile", output_path=out)
        api.process_files(project, max_workers=1, processors_include=["raster-basic"], **kw)  # type: ignore[arg-type]

    scan(tmp_path / "ref.parquet")
    real = report.pq.ParquetWriter

    class DiskFull(real):  # type: ignore[misc, valid-type]
        def write_table(self, *a: object, **k: object) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

    out = tmp_path / "r.parquet"
    monkeypatch.setattr(report.pq, "ParquetWriter", DiskFull)
    with pytest.raises(ReportError, match="No space left on device"):
        scan(out)
    monkeypatch.setattr(report.pq, "ParquetWriter", real)
    assert not out.exists()
    scan(out, resume=True)
    assert api.last_summary().resumed == 120  # type: ignore[union-attr]
    assert content(out).equals(content(tmp_path / "ref.parquet"))
