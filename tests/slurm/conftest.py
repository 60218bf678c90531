"""Integration tests against a real SLURM (munge + slurmctld + slurmd on localhost).

``.ci/slurm/start.sh`` installs and starts it; without a reachable controller every test
marked ``slurm`` is skipped with a reason that says how to start one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from slurm_helpers import SKIP_REASON, controller_up, process_problem, wait_for_jobs, write_dataset


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    marked = [item for item in items if item.get_closest_marker("slurm")]
    if marked and not controller_up():
        for item in marked:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.fixture
def needs_process() -> None:
    """The main CLI's ``process`` command must run in this Python (the SLURM runs call it)."""
    problem = process_problem()
    assert not problem, problem


@pytest.fixture(autouse=True)
def no_leftover_jobs(request: pytest.FixtureRequest) -> None:
    """Start every slurm test from an empty queue, so that "no job left" means this test."""
    if request.node.get_closest_marker("slurm") and controller_up():
        left = wait_for_jobs(present=False, timeout=30)
        assert not left, f"jobs left by an earlier test: {left}"


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("slurm-data") / "data")
