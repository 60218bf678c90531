"""The forwarded arguments are parsed by process's own parser before anything is submitted."""

from __future__ import annotations

import click
import pytest

from pixel_patrol_slurm.errors import USAGE, LaunchError
from pixel_patrol_slurm.precheck import check_forwarded, process_click_command


@click.command()
@click.argument("base")
@click.option("-o", "--output", required=True)
@click.option("--count", type=int, default=1)
def fake_process(base: str, output: str, count: int) -> None:
    raise AssertionError("the check must never run the command")


def test_good_arguments_pass_without_running_the_command() -> None:
    check_forwarded(["data", "-o", "r.parquet", "--count", "3"], fake_process)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "-o", "r.parquet", "--bogus"], r"No such option.*--bogus"),
        (["data"], "Missing option '-o'"),
        (["data", "-o", "r", "--count", "many"], "Invalid value for '--count'"),
    ],
)
def test_bad_arguments_are_usage_errors(args: list[str], message: str) -> None:
    with pytest.raises(LaunchError, match=message) as info:
        check_forwarded(args, fake_process)
    assert info.value.exit_code == USAGE
    assert info.value.message.startswith("bad argument for pixel-patrol process: ")


def test_help_is_shown_and_stops_with_an_empty_message(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(LaunchError) as info:
        check_forwarded(["--help"], fake_process)
    assert (info.value.exit_code, info.value.message) == (0, "")
    assert "--output" in capsys.readouterr().out


def test_the_real_process_command_is_found_when_installed() -> None:
    command = process_click_command()
    assert command is not None
    with pytest.raises(LaunchError, match=r"No such option.*--no-such-option"):
        check_forwarded(["data", "-o", "r.parquet", "--no-such-option"], command)
