"""The cluster options, their defaults and their validation (pure, no SLURM needed)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from pixel_patrol_slurm.errors import USAGE, LaunchError
from pixel_patrol_slurm.walltime import parse_walltime

DEFAULT_JOBS = 4
DEFAULT_CORES = 4
DEFAULT_MEMORY = "16GB"
DEFAULT_PROCESSES = 1
DEFAULT_WALLTIME = "02:00:00"
DEFAULT_WAIT_S = 60.0
DEFAULT_MIN_WORKERS = 1
DEFAULT_LOG_DIR = Path("pixel-patrol-slurm-logs")

_GIB = 1024**3
_MIB = 1024**2


@dataclass(frozen=True)
class ClusterOptions:
    """Everything before ``--``: what to ask SLURM for and how long to wait for it.

    ``memory`` and ``cores`` are per SLURM job; each job runs ``processes`` Dask workers
    that share them.
    """

    jobs: int = DEFAULT_JOBS
    cores: int = DEFAULT_CORES
    memory: str = DEFAULT_MEMORY
    processes: int = DEFAULT_PROCESSES
    partition: str | None = None
    walltime: str = DEFAULT_WALLTIME
    account: str | None = None
    qos: str | None = None
    job_extra: tuple[str, ...] = ()
    prologue: tuple[str, ...] = ()
    interface: str | None = None
    log_dir: Path = field(default=DEFAULT_LOG_DIR)
    min_workers: int = DEFAULT_MIN_WORKERS
    wait: float = DEFAULT_WAIT_S
    dry_run: bool = False

    @property
    def max_workers(self) -> int:
        """Workers the cluster has once every job runs."""
        return self.jobs * self.processes

    def memory_bytes(self) -> int:
        """``memory`` in bytes, as Dask reads it (``16GB`` = 16e9, ``16GiB`` = 16·2³⁰)."""
        from dask.utils import parse_bytes

        return int(parse_bytes(self.memory))

    def memory_request_mb(self) -> int:
        """MiB that ``#SBATCH --mem`` will ask for (dask-jobqueue rounds up to whole G/M)."""
        n = self.memory_bytes()
        if n >= _GIB:
            return math.ceil(n / _GIB) * 1024
        return max(1, math.ceil(n / _MIB))


def _positive(name: str, value: float) -> None:
    if value < 1:
        raise LaunchError(f"--{name} must be at least 1, got {value}", USAGE)


def validate(options: ClusterOptions) -> None:
    """Reject option values that can never work, before anything is started.

    Raises
    ------
    LaunchError
        (exit 2) naming the offending option.
    """
    _positive("jobs", options.jobs)
    _positive("cores", options.cores)
    _positive("processes", options.processes)
    if options.processes > options.cores:
        raise LaunchError(
            f"--processes {options.processes} exceeds --cores {options.cores}: "
            "every worker process needs at least one core",
            USAGE,
        )
    if not 0 <= options.min_workers <= options.max_workers:
        raise LaunchError(
            f"--min-workers must be between 0 and jobs × processes = {options.max_workers}, "
            f"got {options.min_workers}",
            USAGE,
        )
    if options.wait <= 0:
        raise LaunchError(f"--wait must be positive, got {options.wait}", USAGE)
    try:
        if options.memory_bytes() <= 0:
            raise ValueError("not positive")
    except ValueError:
        raise LaunchError(
            f"--memory {options.memory!r} is not a size such as 16GB or 4000MB", USAGE
        ) from None
    try:
        parse_walltime(options.walltime)
    except ValueError as exc:
        raise LaunchError(f"--walltime: {exc}", USAGE) from None
    for line in options.job_extra:
        if not line.strip():
            raise LaunchError("--job-extra must not be empty", USAGE)
