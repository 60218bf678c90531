"""Parsing of sinfo/squeue/sbatch output and the checks made from it (no SLURM needed)."""

from __future__ import annotations

import pytest

from pixel_patrol_slurm.errors import USAGE, LaunchError
from pixel_patrol_slurm.options import ClusterOptions
from pixel_patrol_slurm.slurm import (
    Partition,
    check_request,
    parse_job_states,
    parse_sinfo,
    slurm_message,
)

SINFO = "debug*|2|24105|up\ngpu|64|512000|up\ngpu|128+|1024000|up\nbad line\n"


def test_parse_sinfo_keeps_the_largest_node_per_partition() -> None:
    assert parse_sinfo(SINFO) == [
        Partition("debug", True, 2, 24105, "up"),
        Partition("gpu", False, 128, 1024000, "up"),
    ]


PARTS = parse_sinfo(SINFO)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ClusterOptions(partition="nope"),
            r"partition 'nope' does not exist \(available: debug, gpu\)",
        ),
        (
            ClusterOptions(cores=4),
            r"--cores 4 is more than any node of partition 'debug' has \(2 CPUs\)",
        ),
        (ClusterOptions(cores=1, memory="10000GB"), r"--memory 10000GB \(9537536 MB per job\)"),
        (ClusterOptions(cores=200, partition="gpu"), "128 CPUs"),
    ],
)
def test_requests_no_node_can_hold_are_usage_errors(options: ClusterOptions, message: str) -> None:
    with pytest.raises(LaunchError, match=message) as info:
        check_request(PARTS, options)
    assert info.value.exit_code == USAGE


def test_fitting_requests_pass() -> None:
    check_request(PARTS, ClusterOptions(cores=2, memory="16GB"))
    check_request(PARTS, ClusterOptions(cores=100, memory="900GB", partition="gpu"))


def test_no_default_partition_leaves_the_decision_to_sbatch() -> None:
    check_request([Partition("a", False, 1, 1, "up")], ClusterOptions(cores=64))


def test_slurm_message_keeps_the_reason() -> None:
    stderr = (
        "Command exited with non-zero exit code.\nExit code: 1\nCommand:\nsbatch /tmp/x.sh\n"
        "stdout:\n\nstderr:\nsbatch: error: Memory specification can not be satisfied\n"
        "sbatch: error: Batch job submission failed: Requested node configuration is not available\n"
    )
    assert slurm_message(stderr) == "Requested node configuration is not available"
    assert slurm_message("allocation failure: Invalid partition name specified") == (
        "allocation failure: Invalid partition name specified"
    )
    assert slurm_message("") == "no message"


def test_parse_job_states_filters_to_our_jobs() -> None:
    text = "12|PENDING|Resources\n13|RUNNING|None\n99|PENDING|Priority\n"
    assert parse_job_states(text, ["12", "13"]) == {"12": "PENDING (Resources)", "13": "RUNNING"}
