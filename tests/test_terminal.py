"""What a person sees while a run goes and when it ends: through a pipe and a pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]")


def screen_lines(screen: str) -> list[str]:
    """What was drawn, one entry per line or redraw (carriage returns start a new entry)."""
    plain = ANSI.sub("", screen.replace("\r\n", "\n").replace("\r", "\n"))
    return [ln.strip() for ln in plain.splitlines() if ln.strip()]


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """Two conditions of small TIFFs, plus two broken files in one of them."""
    rng = np.random.default_rng(3)
    base = tmp_path / "data"
    for cond in ("ctrl", "drug"):
        (base / cond).mkdir(parents=True)
        for i in range(60):
            tifffile.imwrite(base / cond / f"t{i:02d}.tif", rng.integers(0, 4000, (48, 64), dtype=np.uint16))
    (base / "drug" / "broken1.tif").write_bytes(b"II*\x00 not really a tiff")
    return base


def command(base: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pixel_patrol_base", "process", str(base), "-o", str(out), "--loader", "tifffile", *extra]


def env(**more: str) -> dict[str, str]:
    e = dict(os.environ)
    e.update(more)
    return e


def test_pipe_gets_plain_progress_lines_and_a_summary(images: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    res = subprocess.run(
        command(images, out, "--max-workers", "1", "-p", "ctrl", "-p", "drug"), capture_output=True,
        text=True, timeout=300, env=env(PIXEL_PATROL_PROGRESS_SECONDS="0.05"),
    )
    assert res.returncode == 0, res.stderr
    err = res.stderr
    assert "\x1b" not in err and "\r" not in err  # no terminal control codes in a log file
    lines = err.splitlines()
    progress = [ln for ln in lines if re.fullmatch(r"pixel-patrol: [\d,]+/[\d,]+ files \(\d+%\), [\d.,]+ files/s(, ETA \d+:\d\d:\d\d)?, \d+ errors?", ln)]
    assert progress, err
    done = [int(ln.split()[1].split("/")[0].replace(",", "")) for ln in progress]
    assert done == sorted(done) and all(0 <= d <= 121 for d in done)
    summary = [ln for ln in lines if "rows," in ln]
    assert summary == [f"pixel-patrol: 121 files, 121 rows, 1 error in {summary[0].split(' in ')[1].split(' ')[0]} s -> {out}"]
    assert "pixel-patrol: conditions: ctrl: 60 files; drug: 61 files (1 failed)" in lines
    assert "pixel-patrol: failed (1):" in lines
    failed = lines[lines.index("pixel-patrol: failed (1):") + 1]
    assert failed.startswith(f"pixel-patrol:   {images / 'drug' / 'broken1.tif'}: ")


def test_failures_beyond_ten_point_to_the_log_and_the_report(images: Path, tmp_path: Path) -> None:
    for i in range(12):
        (images / "ctrl" / f"zz{i:02d}.tif").write_bytes(b"garbage")
    out = tmp_path / "r.parquet"
    res = subprocess.run(command(images, out, "--max-workers", "1", "--log-file", "--omit-base-dir"), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    lines = res.stderr.splitlines()
    start = lines.index("pixel-patrol: failed (13):")
    shown = lines[start + 1 : start + 11]
    assert len(shown) == 10 and all(ln.startswith("pixel-patrol:   ") for ln in shown)
    assert lines[start + 11] == f"pixel-patrol:   ... and 3 more: all are listed in {out.with_suffix('.log')} and the 'error' column of {out}"
    log = out.with_suffix(".log").read_text()
    failed = [ln.split(": failed: ", 1)[1] for ln in log.splitlines() if ": failed: " in ln]
    names = sorted(f.split(":")[0] for f in failed)
    assert names == sorted(["drug/broken1.tif"] + [f"ctrl/zz{i:02d}.tif" for i in range(12)])
    assert str(images) not in log.split("debug log:")[-1].split("\n", 1)[1]  # relative paths only
    body = [ln.split(" ", 2)[2] for ln in log.splitlines()]
    assert len(body) == len(set(body))  # every line once


def _pty_run(cmd: list[str], environ: dict[str, str], interrupt_after: str | None = None) -> tuple[int, str]:
    """Run ``cmd`` on a pseudo-terminal (120 columns); optionally press Ctrl-C once ``interrupt_after``
    appears on the screen. Returns the exit code and everything the terminal received."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=environ, start_new_session=True)
    os.close(slave)
    chunks: list[bytes] = []
    sent = False
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        text = b"".join(chunks).decode(errors="replace")
        if interrupt_after and not sent and interrupt_after in ANSI.sub("", text):
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
            sent = True
        if proc.poll() is not None and not ready:
            break
    proc.wait(timeout=60)
    os.close(master)
    return proc.returncode, b"".join(chunks).decode(errors="replace")


def test_terminal_shows_a_bar_and_keeps_log_lines_above_it(images: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    code, screen = _pty_run(command(images, out, "--max-workers", "2"), env(COLUMNS="120", TERM="xterm"))
    assert code == 0, screen
    lines = screen_lines(screen)
    workers = [ln for ln in lines if "using 2 workers" in ln]
    assert workers and all(ln.startswith("pixel-patrol: using 2 workers") for ln in workers)
    assert any(re.search(r"(processing|scanning).*\d+", ln) for ln in lines), lines
    assert lines[-1].startswith("pixel-patrol: ") or "failed" in "".join(lines[-3:])
    assert any(ln.startswith("pixel-patrol: 121 files, 121 rows, 1 error in ") for ln in lines)
    assert "Traceback" not in screen


def test_ctrl_c_with_workers_prints_one_clean_line(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    base = tmp_path / "many"
    base.mkdir()
    for i in range(400):
        tifffile.imwrite(base / f"f{i:03d}.tif", rng.integers(0, 4000, (4, 96, 96), dtype=np.uint16), metadata={"axes": "ZYX"}, photometric="minisblack")
    out = tmp_path / "r.parquet"
    cmd = command(base, out, "--max-workers", "2", "--max-images-per-task", "4", "--rows-per-part", "5")
    code, screen = _pty_run(cmd, env(COLUMNS="120", TERM="xterm"), interrupt_after="processing")
    assert code == 130, screen
    plain = screen_lines(screen)
    after = plain[max(i for i, ln in enumerate(plain) if "processing" in ln or "scanning" in ln) + 1 :]
    assert len(after) == 1 and after[0].startswith("pixel-patrol: error: interrupted;") and "--resume" in after[0], plain
    assert "Traceback" not in screen and "8787" not in screen
    assert not out.exists()


def test_unreachable_scheduler_leaves_nothing_behind(images: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    res = subprocess.run(
        command(images, out, "--scheduler", "tcp://127.0.0.1:9"), capture_output=True, text=True, timeout=300,
        env=env(DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="1s"),
    )
    assert res.returncode == 1
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("pixel-patrol: error:")]
    assert len(errors) == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in errors[0]
    assert "Traceback" not in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
