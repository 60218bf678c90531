"""The generated job script: what SLURM and the worker will actually be told."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from pixel_patrol_slurm.cluster import (
    JOB_NAME_PREFIX,
    job_kwargs,
    new_job_name,
    render_job_script,
)
from pixel_patrol_slurm.options import ClusterOptions


@pytest.fixture
def options(tmp_path: Path) -> ClusterOptions:
    return ClusterOptions(
        jobs=3,
        cores=8,
        memory="32GB",
        processes=2,
        partition="gpu",
        walltime="04:00:00",
        account="lab42",
        qos="long",
        job_extra=("--gres=gpu:1", "#SBATCH --exclusive"),
        prologue=("module load cuda", "source env/bin/activate"),
        interface="lo",
        log_dir=tmp_path / "logs",
    )


def script_lines(options: ClusterOptions) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. the deprecated env_extra would warn
        return render_job_script(options, "pixel-patrol-abc123").splitlines()


def test_sbatch_directives(options: ClusterOptions, tmp_path: Path) -> None:
    lines = script_lines(options)
    directives = [ln for ln in lines if ln.startswith("#SBATCH")]
    logs = tmp_path / "logs"
    assert directives == [
        "#SBATCH -J pixel-patrol-abc123",
        f"#SBATCH -e {logs}/pixel-patrol-abc123-%J.err",
        f"#SBATCH -o {logs}/pixel-patrol-abc123-%J.out",
        "#SBATCH -p gpu",
        "#SBATCH -A lab42",
        "#SBATCH -n 1",
        "#SBATCH --cpus-per-task=8",
        "#SBATCH --mem=30G",
        "#SBATCH -t 04:00:00",
        "#SBATCH --gres=gpu:1",
        "#SBATCH --exclusive",
        "#SBATCH --qos=long",
    ]


def test_prologue_pins_threads_then_runs_user_lines_before_the_worker(
    options: ClusterOptions,
) -> None:
    lines = script_lines(options)
    worker = next(i for i, ln in enumerate(lines) if "distributed.cli.dask_worker" in ln)
    assert lines.index("export OMP_NUM_THREADS=1") < lines.index("module load cuda")
    assert lines.index("module load cuda") < lines.index("source env/bin/activate") < worker


def test_worker_command_carries_processes_memory_lifetime_and_interface(
    options: ClusterOptions,
) -> None:
    worker = next(ln for ln in script_lines(options) if "dask_worker" in ln)
    # 4 h walltime: margin 10 min, stagger 5 min -> lifetime 3 h 45 min
    for part in (
        "--nworkers 2",
        "--nthreads 4",
        "--memory-limit 14.90GiB",
        "--lifetime 13500s",
        "--lifetime-stagger 300s",
        "--interface lo",
        "--nanny",
    ):
        assert part in worker
    assert "--lifetime-restart" not in worker


def test_unset_options_are_left_to_slurm(tmp_path: Path) -> None:
    text = render_job_script(ClusterOptions(log_dir=tmp_path), "pixel-patrol-x")
    assert "#SBATCH -p" not in text
    assert "#SBATCH -A" not in text
    assert "--qos" not in text
    assert "--interface" not in text


def test_unlimited_walltime_sets_no_lifetime(tmp_path: Path) -> None:
    kwargs = job_kwargs(ClusterOptions(walltime="INFINITE", log_dir=tmp_path), "n")
    assert kwargs["worker_extra_args"] == []


def test_job_kwargs_use_the_non_deprecated_names(options: ClusterOptions) -> None:
    kwargs = job_kwargs(options, "n")
    assert "env_extra" not in kwargs and "job_extra" not in kwargs and "extra" not in kwargs
    assert kwargs["job_script_prologue"][-1] == "source env/bin/activate"
    assert Path(kwargs["log_directory"]).is_absolute()


def test_job_names_are_unique_per_run() -> None:
    names = {new_job_name() for _ in range(50)}
    assert len(names) == 50
    assert all(n.startswith(JOB_NAME_PREFIX + "-") for n in names)
