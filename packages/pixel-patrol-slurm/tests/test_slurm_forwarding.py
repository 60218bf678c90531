"""Splitting at ``--`` and building the ``process`` command: pure functions."""

from __future__ import annotations

import sys

import pytest

from pixel_patrol_slurm.errors import USAGE, LaunchError
from pixel_patrol_slurm.forwarding import process_command, reject_scheduler, split_argv


def test_split_keeps_everything_after_the_first_separator_verbatim() -> None:
    argv = ["--jobs", "2", "--", "data dir", "-o", "r.parquet", "--", "-weird"]
    assert split_argv(argv) == (["--jobs", "2"], ["data dir", "-o", "r.parquet", "--", "-weird"])


def test_split_allows_no_cluster_options() -> None:
    assert split_argv(["--", "data"]) == ([], ["data"])


@pytest.mark.parametrize("argv", [[], ["--jobs", "2"], ["data", "-o", "r.parquet"]])
def test_missing_separator_is_a_usage_error(argv: list[str]) -> None:
    with pytest.raises(LaunchError, match="missing '--'") as info:
        split_argv(argv)
    assert info.value.exit_code == USAGE


def test_nothing_after_separator_is_a_usage_error() -> None:
    with pytest.raises(LaunchError, match="nothing after '--'") as info:
        split_argv(["--jobs", "2", "--"])
    assert info.value.exit_code == USAGE


@pytest.mark.parametrize("arg", ["--scheduler", "--scheduler=tcp://x:1"])
def test_forwarded_scheduler_is_refused(arg: str) -> None:
    with pytest.raises(LaunchError, match="remove --scheduler") as info:
        reject_scheduler(["data", arg, "tcp://x:1"])
    assert info.value.exit_code == USAGE


def test_scheduler_after_process_separator_is_a_path_not_an_option() -> None:
    reject_scheduler(["-o", "r.parquet", "--", "--scheduler"])


def test_process_command_uses_this_interpreter_and_appends_scheduler() -> None:
    cmd = process_command(["data", "-o", "r.parquet", "--loader", "bioio"], "tcp://h:1")
    assert cmd == [
        sys.executable,
        "-m",
        "pixel_patrol_base",
        "process",
        "data",
        "-o",
        "r.parquet",
        "--loader",
        "bioio",
        "--scheduler",
        "tcp://h:1",
    ]


def test_process_command_puts_scheduler_before_a_forwarded_separator() -> None:
    cmd = process_command(["-o", "r.parquet", "--", "-data"], "tcp://h:1", python="py")
    assert cmd == [
        "py",
        "-m",
        "pixel_patrol_base",
        "process",
        "-o",
        "r.parquet",
        "--scheduler",
        "tcp://h:1",
        "--",
        "-data",
    ]
