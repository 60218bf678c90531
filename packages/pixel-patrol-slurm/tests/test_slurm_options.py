"""Option validation happens before anything is started."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pixel_patrol_slurm.errors import USAGE, LaunchError
from pixel_patrol_slurm.options import ClusterOptions, validate


def test_defaults_match_the_documented_ones() -> None:
    opts = ClusterOptions()
    assert (opts.jobs, opts.cores, opts.memory, opts.processes) == (4, 4, "16GB", 1)
    assert (opts.walltime, opts.wait, opts.min_workers) == ("02:00:00", 60.0, 1)
    validate(opts)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"jobs": 0}, "--jobs must be at least 1"),
        ({"cores": 0}, "--cores must be at least 1"),
        ({"processes": 0}, "--processes must be at least 1"),
        ({"processes": 5}, "exceeds --cores 4"),
        ({"min_workers": 5}, "between 0 and jobs"),
        ({"min_workers": -1}, "between 0 and jobs"),
        ({"wait": 0}, "--wait must be positive"),
        ({"memory": "lots"}, "--memory 'lots' is not a size"),
        ({"memory": "0GB"}, "is not a size"),
        ({"walltime": "2h"}, "--walltime"),
        ({"job_extra": (" ",)}, "--job-extra must not be empty"),
    ],
)
def test_invalid_values_are_usage_errors(change: dict[str, object], message: str) -> None:
    with pytest.raises(LaunchError, match=message) as info:
        validate(replace(ClusterOptions(), **change))  # type: ignore[arg-type]
    assert info.value.exit_code == USAGE


def test_min_workers_may_count_all_processes_of_all_jobs() -> None:
    validate(ClusterOptions(jobs=2, cores=4, processes=2, min_workers=4))


@pytest.mark.parametrize(
    ("memory", "mb"), [("16GB", 15 * 1024), ("16GiB", 16 * 1024), ("500MB", 477), ("1kB", 1)]
)
def test_memory_request_rounds_like_sbatch_mem(memory: str, mb: int) -> None:
    assert ClusterOptions(memory=memory).memory_request_mb() == mb
