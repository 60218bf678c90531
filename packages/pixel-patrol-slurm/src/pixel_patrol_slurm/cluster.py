"""Build the ``dask_jobqueue.SLURMCluster`` from the options.

``dask_jobqueue`` and ``distributed`` are imported inside the functions so that
``pixel-patrol-slurm --help`` stays instant.
"""

from __future__ import annotations

import secrets
import signal
import threading
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pixel_patrol_slurm.errors import USAGE, LaunchError
from pixel_patrol_slurm.options import ClusterOptions
from pixel_patrol_slurm.walltime import parse_walltime, worker_lifetime

if TYPE_CHECKING:
    from dask_jobqueue.slurm import SLURMCluster
    from dask_jobqueue.slurm import SLURMJob as _BaseJob

JOB_NAME_PREFIX = "pixel-patrol"
PLACEHOLDER_SCHEDULER = "tcp://<scheduler-address>:8786"
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
"""Pinned to 1 in every job, as for local workers: each Dask thread already runs one task,
and native thread pools on top of that would oversubscribe the job's cores."""


def new_job_name() -> str:
    """A job name unique to this run, so its jobs can be found and cancelled by name alone."""
    return f"{JOB_NAME_PREFIX}-{secrets.token_hex(3)}"


def _sbatch_line(line: str) -> str:
    """``--job-extra`` accepts ``--gres=gpu:1`` as well as ``#SBATCH --gres=gpu:1``."""
    text = line.strip()
    return text.removeprefix("#SBATCH").strip()


def job_directives(options: ClusterOptions) -> list[str]:
    """Extra ``#SBATCH`` directives (without the prefix, dask-jobqueue adds it)."""
    lines = [_sbatch_line(line) for line in options.job_extra]
    if options.qos:
        lines.append(f"--qos={options.qos}")
    return lines


def job_prologue(options: ClusterOptions) -> list[str]:
    """Shell lines run before the worker starts: thread pinning, then the user's lines."""
    pins = [f"export {name}=1" for name in THREAD_VARIABLES]
    return [*pins, *options.prologue]


def worker_args(options: ClusterOptions) -> list[str]:
    """Extra ``dask worker`` arguments: the lifetime derived from the walltime, if any."""
    lifetime = worker_lifetime(parse_walltime(options.walltime))
    return lifetime.worker_args() if lifetime else []


def job_kwargs(options: ClusterOptions, job_name: str) -> dict[str, Any]:
    """Keyword arguments shared by the cluster and a single job (pure, unit-tested).

    ``job_script_prologue`` is used, not the deprecated ``env_extra``. Options left unset
    (partition, account, interface) are passed as ``None`` so that a site's dask-jobqueue
    configuration still provides them.
    """
    return {
        "cores": options.cores,
        "memory": options.memory,
        "processes": options.processes,
        "walltime": options.walltime,
        "queue": options.partition,
        "account": options.account,
        "job_name": job_name,
        "job_extra_directives": job_directives(options),
        "job_script_prologue": job_prologue(options),
        "worker_extra_args": worker_args(options),
        "interface": options.interface,
        "log_directory": str(options.log_dir.resolve()),
    }


def import_jobqueue() -> ModuleType:
    """Import ``dask_jobqueue`` but keep this process's Ctrl-C behaviour.

    Its ``runner`` module installs a SIGINT handler that calls ``sys.exit()``, so Ctrl-C
    would end the run with status 0 as if it had succeeded; the previous handler is restored.
    """
    on_main = threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGINT) if on_main else None
    import dask_jobqueue
    import dask_jobqueue.slurm

    if on_main and before is not None:
        signal.signal(signal.SIGINT, before)
    return dask_jobqueue


@cache
def _job_classes() -> tuple[type[_BaseJob], type[SLURMCluster]]:
    """The SLURM job/cluster classes, extended to keep the ``sbatch`` error of a job.

    dask-jobqueue only logs a failed submission from a background task; keeping the
    message on the job lets the command report it in one line and stop waiting.
    """
    import_jobqueue()
    from dask_jobqueue.slurm import SLURMCluster as BaseCluster
    from dask_jobqueue.slurm import SLURMJob as BaseJob

    # Same class names as dask-jobqueue's: they show up in worker names and logs.
    class SLURMJob(BaseJob):
        submit_error: str | None = None

        async def start(self) -> None:
            try:
                await super().start()  # type: ignore[no-untyped-call]  # dask-jobqueue leaves it unannotated
            except RuntimeError as exc:
                self.submit_error = str(exc)
                raise

    class SLURMCluster(BaseCluster):
        job_cls = SLURMJob

    return SLURMJob, SLURMCluster


def render_job_script(options: ClusterOptions, job_name: str) -> str:
    """The job script one job would run, without starting a scheduler (for ``--dry-run``).

    Note that dask-jobqueue creates the log directory when a job object is built.
    """
    job_cls, _ = _job_classes()
    job = job_cls(
        scheduler=PLACEHOLDER_SCHEDULER, name=f"{job_name}-worker", **job_kwargs(options, job_name)
    )
    return str(job.job_script())


def check_interface(interface: str | None) -> None:
    """Fail early (exit 2) on a network interface this machine does not have."""
    if not interface:
        return
    from distributed.utils import get_ip_interface

    try:
        get_ip_interface(interface)
    except ValueError as exc:
        raise LaunchError(f"--interface: {exc}", USAGE) from None


def start_cluster(options: ClusterOptions, job_name: str) -> SLURMCluster:
    """Start the scheduler (in this process) and return the cluster, with no job yet.

    The dashboard gets a free port (``:0``) so that two runs on one login node, or a
    notebook already using 8787, do not collide.
    """
    _, cluster_cls = _job_classes()
    cluster: SLURMCluster = cluster_cls(
        **job_kwargs(options, job_name),
        scheduler_options={"dashboard_address": ":0"},
    )
    return cluster


def job_ids(cluster: SLURMCluster) -> dict[str, str | None]:
    """SLURM job id of every job the cluster holds (``None`` while not yet submitted)."""
    return {name: getattr(job, "job_id", None) for name, job in dict(cluster.workers).items()}


def submit_errors(cluster: SLURMCluster) -> list[str]:
    """``sbatch`` errors of the jobs the cluster tried to submit."""
    errors = (getattr(job, "submit_error", None) for job in dict(cluster.workers).values())
    return [e for e in errors if e]
