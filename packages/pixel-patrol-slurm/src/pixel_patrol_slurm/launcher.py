"""The run itself: check, start the cluster, wait for workers, run ``process``, clean up.

Whatever happens after the first ``sbatch`` (success, failure, Ctrl-C, SIGTERM, SIGHUP),
the ``finally`` block cancels every job this run submitted and waits until ``squeue`` no
longer lists them.
"""

from __future__ import annotations

import logging
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pixel_patrol_slurm import slurm
from pixel_patrol_slurm.cluster import (
    PLACEHOLDER_SCHEDULER,
    check_interface,
    job_ids,
    new_job_name,
    render_job_script,
    start_cluster,
    submit_errors,
)
from pixel_patrol_slurm.errors import LaunchError
from pixel_patrol_slurm.forwarding import process_command, reject_scheduler
from pixel_patrol_slurm.keeper import JobKeeper
from pixel_patrol_slurm.options import ClusterOptions, validate
from pixel_patrol_slurm.precheck import check_forwarded

if TYPE_CHECKING:
    from dask_jobqueue.slurm import SLURMCluster

WAIT_SLICE_S = 5.0
"""Between slices of ``wait_for_workers`` the jobs are checked, to fail early when they died."""
KEEP_INTERVAL_S = 10.0
CHILD_STOP_S = 10.0
CLOSE_TIMEOUT_S = 30.0
GONE_TIMEOUT_S = 20.0
_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Terminated(BaseException):
    """SIGTERM/SIGHUP turned into an exception so that ``finally`` blocks cancel the jobs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def say(message: str) -> None:
    """Progress line on stderr (stdout belongs to ``process``)."""
    print(f"pixel-patrol-slurm: {message}", file=sys.stderr, flush=True)


def run(options: ClusterOptions, forwarded: Sequence[str]) -> int:
    """Run ``process`` on a fresh SLURM cluster and return its exit code."""
    validate(options)
    reject_scheduler(forwarded)
    job_name = new_job_name()
    if options.dry_run:
        check_forwarded(forwarded)
        return dry_run(options, forwarded, job_name)
    preflight(options, forwarded, job_name)
    with quiet_dask_logs(), signals_as_exceptions():
        return run_on_cluster(options, forwarded, job_name)


def dry_run(options: ClusterOptions, forwarded: Sequence[str], job_name: str) -> int:
    """Print the job script and the command, submit nothing."""
    print(f"# job script, submitted {options.jobs} time(s) as job name {job_name}")
    print(render_job_script(options, job_name))
    print("# command run once the workers are up")
    print(shlex.join(process_command(forwarded, PLACEHOLDER_SCHEDULER)))
    return 0


def preflight(options: ClusterOptions, forwarded: Sequence[str], job_name: str) -> None:
    """Every check that needs no job: cheapest first, SLURM's own verdict last."""
    check_interface(options.interface)
    slurm.require_sbatch()
    check_forwarded(forwarded)
    partitions = slurm.list_partitions()
    if partitions is not None:
        slurm.check_request(partitions, options)
    slurm.test_submission(render_job_script(options, job_name))


def run_on_cluster(options: ClusterOptions, forwarded: Sequence[str], job_name: str) -> int:
    """Start the cluster, wait for workers, run ``process``; always cancel the jobs."""
    cluster: SLURMCluster | None = None
    keeper: JobKeeper | None = None
    try:
        cluster = _start(options, job_name)
        keeper = JobKeeper(cluster, options.jobs)
        cluster.scale(jobs=options.jobs)
        say(
            f"submitted {options.jobs} job(s) named {job_name}; waiting up to "
            f"{options.wait:g} s for {options.min_workers} worker(s)"
        )
        wait_for_workers(cluster, keeper, options)
        command = process_command(forwarded, cluster.scheduler_address)
        say(f"running: {shlex.join(command)}")
        return run_process(command, keeper)
    finally:
        with signals_ignored():
            shutdown(cluster, keeper, job_name)


def _start(options: ClusterOptions, job_name: str) -> SLURMCluster:
    try:
        return start_cluster(options, job_name)
    except (OSError, ValueError) as exc:
        raise LaunchError(f"could not start the Dask scheduler: {exc}") from None


def wait_for_workers(cluster: SLURMCluster, keeper: JobKeeper, options: ClusterOptions) -> None:
    """Wait for ``min_workers`` in slices, failing early on sbatch errors or dead jobs.

    Raises
    ------
    LaunchError
        (exit 1) with what SLURM says about the jobs when the workers do not come.
    """
    from distributed import Client

    start = time.monotonic()
    deadline = start + options.wait
    with Client(cluster) as client:
        while True:
            slice_s = max(0.1, min(WAIT_SLICE_S, deadline - time.monotonic()))
            try:
                client.wait_for_workers(options.min_workers, timeout=slice_s)
            except TimeoutError:
                pass
            else:
                count = len(client.nthreads())
                say(f"{count} worker(s) connected after {time.monotonic() - start:.0f} s")
                return
            keeper.remember()
            _fail_if_hopeless(cluster, keeper, options)
            if time.monotonic() >= deadline:
                count = len(client.nthreads())
                raise LaunchError(
                    f"only {count} of {options.min_workers} worker(s) connected within "
                    f"{options.wait:g} s; SLURM says: {slurm.describe_jobs(keeper.seen)}"
                    f"{_log_hint(options.log_dir, keeper.seen)}"
                )


def _fail_if_hopeless(cluster: SLURMCluster, keeper: JobKeeper, options: ClusterOptions) -> None:
    """Stop waiting when sbatch failed or when every submitted job has already ended."""
    errors = submit_errors(cluster)
    if errors:
        raise LaunchError(f"sbatch failed: {slurm.slurm_message(errors[0])}")
    ids = list(job_ids(cluster).values())
    if not ids or any(j is None for j in ids):
        return
    live = slurm.live_job_ids()
    if live is not None and not live & set(ids):
        raise LaunchError(
            f"all jobs ended before enough workers connected; SLURM says: "
            f"{slurm.describe_jobs(keeper.seen)}{_log_hint(options.log_dir, keeper.seen)}"
        )


def _log_hint(log_dir: Path, ids: set[str]) -> str:
    """Last error line of this run's worker logs, which usually names why a worker failed."""
    for path in sorted(log_dir.resolve().glob("*.err")):
        if not any(path.stem.endswith(f"-{j}") for j in ids):
            continue
        text = path.read_text(errors="replace")
        errors = [ln.strip() for ln in text.splitlines() if "error" in ln.lower()]
        if errors:
            return f"; {path}: {errors[-1]}"
    return f"; worker logs in {log_dir.resolve()}"


def run_process(command: Sequence[str], keeper: JobKeeper) -> int:
    """Run ``process`` in a child process, keeping the jobs topped up meanwhile."""
    child = subprocess.Popen(list(command))
    try:
        while True:
            try:
                return child.wait(timeout=KEEP_INTERVAL_S)
            except subprocess.TimeoutExpired:
                keeper.tick()
    finally:
        stop_child(child)


def stop_child(child: subprocess.Popen[bytes]) -> None:
    """Terminate ``process`` if it still runs (we are being interrupted), then kill it."""
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=CHILD_STOP_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def shutdown(cluster: SLURMCluster | None, keeper: JobKeeper | None, job_name: str) -> None:
    """Close the cluster, cancel every job of this run and wait until SLURM lets go of them."""
    ids: set[str] = set()
    if keeper is not None:
        keeper.remember()
        ids |= keeper.seen
    if cluster is not None:
        try:
            cluster.close(timeout=CLOSE_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - a failed close must still reach scancel below
            say(f"warning: the Dask cluster did not close cleanly ({type(exc).__name__}: {exc})")
    try:
        slurm.cancel(ids, job_name)
        left = slurm.wait_until_gone(ids, GONE_TIMEOUT_S)
    except LaunchError as exc:
        say(f"warning: could not cancel the jobs ({exc.message}); check with squeue -n {job_name}")
        return
    if left:
        say(f"warning: squeue still lists job(s) {', '.join(sorted(left))} after scancel")


class _DropSubmitTracebacks(logging.Filter):
    """Drop the background-task traceback of a failed sbatch: it is reported in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "sbatch" not in record.getMessage()


@contextmanager
def quiet_dask_logs() -> Iterator[None]:
    """Keep Dask's INFO chatter and internal tracebacks off the terminal during the run."""
    levels = {name: logging.getLogger(name).level for name in ("distributed", "dask_jobqueue")}
    drop = _DropSubmitTracebacks()
    noisy = [logging.getLogger(name) for name in ("asyncio", "tornado.application")]
    for name in levels:
        logging.getLogger(name).setLevel(logging.ERROR)
    for logger in noisy:
        logger.addFilter(drop)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        for logger in noisy:
            logger.removeFilter(drop)


def _raise_terminated(signum: int, _frame: object) -> None:
    raise Terminated(signum)


@contextmanager
def signals_as_exceptions() -> Iterator[None]:
    """SIGTERM/SIGHUP raise :class:`Terminated` (Ctrl-C already raises KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, _raise_terminated) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


@contextmanager
def signals_ignored() -> Iterator[None]:
    """Let the cleanup finish: a second Ctrl-C must not leave jobs behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    sigs = (signal.SIGINT, *_SIGNALS)
    old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in sigs}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
