"""Walltime parsing and the worker lifetime derived from it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixel_patrol_slurm.walltime import Lifetime, parse_walltime, worker_lifetime


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30", 1800),
        ("5:30", 330),
        ("02:00:00", 7200),
        ("1-12", 36 * 3600),
        ("1-00:30", 86400 + 1800),
        ("2-01:00:05", 2 * 86400 + 3605),
        (" 10 ", 600),
    ],
)
def test_slurm_time_formats(text: str, seconds: int) -> None:
    assert parse_walltime(text) == seconds


@pytest.mark.parametrize("text", ["INFINITE", "unlimited"])
def test_unlimited_walltime(text: str) -> None:
    assert parse_walltime(text) is None
    assert worker_lifetime(None) is None


@pytest.mark.parametrize("text", ["", "2h", "1:2:3:4", "-5", "00:00:00", "a-01"])
def test_bad_walltime_raises(text: str) -> None:
    with pytest.raises(ValueError):
        parse_walltime(text)


def test_default_walltime_retires_between_100_and_110_minutes() -> None:
    life = worker_lifetime(7200)
    assert life == Lifetime(seconds=6300, stagger=300)
    assert life.worker_args() == ["--lifetime", "6300s", "--lifetime-stagger", "300s"]


def test_very_short_walltime_gets_no_lifetime() -> None:
    assert worker_lifetime(35) is None


@given(st.integers(min_value=1, max_value=30 * 86400))
def test_latest_retirement_leaves_a_margin_before_the_walltime(walltime: int) -> None:
    life = worker_lifetime(walltime)
    if life is None:
        return
    latest = life.seconds + life.stagger
    assert life.seconds - life.stagger > 0
    assert walltime - latest >= min(30, walltime * 0.1)
