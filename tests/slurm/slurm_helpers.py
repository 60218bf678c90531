"""Helpers of the SLURM integration tests (a module of its own: several conftest.py exist)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SKIP_REASON = "no SLURM controller reachable (start it with .ci/slurm/start.sh)"
JOB_PREFIX = "pixel-patrol-"


@cache
def controller_up() -> bool:
    """``scontrol ping`` answers "UP" within a few seconds."""
    if shutil.which("scontrol") is None:
        return False
    try:
        done = subprocess.run(
            ["scontrol", "ping"], capture_output=True, text=True, timeout=15, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and "is UP" in done.stdout


@cache
def process_problem() -> str | None:
    """Why ``python -m pixel_patrol_base process`` cannot run here, or ``None``."""
    done = subprocess.run(
        [sys.executable, "-m", "pixel_patrol_base", "process", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode == 0:
        return None
    return f"python -m pixel_patrol_base process --help failed: {done.stderr.strip()[-300:]}"


def our_jobs() -> list[str]:
    """``id name state`` of every job this package submitted that SLURM still holds."""
    done = subprocess.run(
        ["squeue", "-h", "-o", "%i %j %T"], capture_output=True, text=True, timeout=30, check=True
    )
    return [ln for ln in done.stdout.splitlines() if f" {JOB_PREFIX}" in ln]


def wait_for_jobs(present: bool, timeout: float) -> list[str]:
    """Poll ``squeue`` until our jobs are there (``present``) or gone; return the last view."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = our_jobs()
        if bool(jobs) == present or time.monotonic() > deadline:
            return jobs
        time.sleep(0.5)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float

    def error_lines(self) -> list[str]:
        return [
            ln for ln in self.stderr.splitlines() if ln.startswith("pixel-patrol-slurm: error:")
        ]


SMALL = [
    "--jobs",
    "1",
    "--cores",
    "1",
    "--memory",
    "2GB",
    "--walltime",
    "00:10:00",
    "--interface",
    "lo",
]


def run_slurm(args: Sequence[str], cwd: Path, timeout: float = 180) -> Run:
    """Run ``pixel-patrol-slurm`` with this interpreter; bounded in time."""
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pixel_patrol_slurm", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - start)


def write_dataset(base: Path) -> Path:
    """Grey and RGB PNGs in two condition folders plus a small 3-plane TIFF."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    for cond in ("control", "treated"):
        (base / cond).mkdir(parents=True)
        for i in range(3):
            grey = rng.integers(0, 255, (32, 40), dtype=np.uint8)
            Image.fromarray(grey).save(base / cond / f"grey_{i}.png")
            rgb = rng.integers(0, 255, (24, 30, 3), dtype=np.uint8)
            Image.fromarray(rgb).save(base / cond / f"rgb_{i}.png")
    stack = [Image.fromarray(rng.integers(0, 65535, (16, 16), dtype=np.uint16)) for _ in range(3)]
    stack[0].save(base / "treated" / "stack.tif", save_all=True, append_images=stack[1:])
    return base
