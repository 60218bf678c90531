"""Ask SLURM's own tools (``sinfo``, ``sbatch --test-only``, ``squeue``, ``scancel``).

Everything is validated with SLURM before a single job is submitted, so that a request that
can never run fails in a second with SLURM's reason, instead of pending until ``--wait``.
Parsing is kept in pure functions so it can be unit-tested without SLURM.
"""

from __future__ import annotations

import getpass
import shutil
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pixel_patrol_slurm.errors import FAILURE, USAGE, LaunchError
from pixel_patrol_slurm.options import ClusterOptions

QUERY_TIMEOUT_S = 30.0
"""A SLURM command slower than this means the controller is in trouble: report, do not hang."""

_UNREACHABLE = (
    "unable to contact slurm controller",
    "socket timed out",
    "connection refused",
    "zero bytes were transmitted",
)


@dataclass(frozen=True, slots=True)
class Partition:
    """The largest node of a partition (what one job can ask for at most)."""

    name: str
    is_default: bool
    cpus: int
    memory_mb: int
    state: str


def require_sbatch() -> None:
    """Fail (exit 1) when ``sbatch`` is not on ``PATH``: not on a SLURM login node."""
    if shutil.which("sbatch") is None:
        raise LaunchError(
            "sbatch not found on PATH: run this on a SLURM login node "
            "(or load the SLURM module first)"
        )


def run(cmd: Sequence[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a SLURM command with a time limit; a hang becomes a one-line error."""
    try:
        return subprocess.run(
            list(cmd),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=QUERY_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        raise LaunchError(f"{cmd[0]} not found on PATH") from None
    except subprocess.TimeoutExpired:
        raise LaunchError(f"{cmd[0]} did not answer within {QUERY_TIMEOUT_S:.0f} s") from None


def _first_int(text: str) -> int:
    """``sinfo`` numbers may carry a ``+`` (``"64+"``); keep the number."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return int(digits) if digits else 0


def parse_sinfo(text: str) -> list[Partition]:
    """Parse ``sinfo -h -o '%P|%c|%m|%a'``: one line per partition and node shape.

    A partition with differently sized nodes has several lines; the largest node counts,
    since that is what decides whether a single job can ever start.
    """
    best: dict[str, Partition] = {}
    for line in text.splitlines():
        fields = line.strip().split("|")
        if len(fields) != 4 or not fields[0]:
            continue
        raw, cpus, mem, state = fields
        name = raw.rstrip("*")
        old = best.get(name)
        best[name] = Partition(
            name=name,
            is_default=raw.endswith("*"),
            cpus=max(_first_int(cpus), old.cpus if old else 0),
            memory_mb=max(_first_int(mem), old.memory_mb if old else 0),
            state=state,
        )
    return list(best.values())


def slurm_message(stderr: str) -> str:
    """The meaningful line of a SLURM error output, without the ``sbatch: error:`` prefix."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    if not lines:
        return "no message"
    wanted = [ln for ln in lines if "error" in ln.lower() or "failure" in ln.lower()] or lines
    text = wanted[-1]
    for prefix in ("sbatch: error: ", "sinfo: error: ", "squeue: error: ", "error: "):
        text = text.removeprefix(prefix)
    return text.removeprefix("Batch job submission failed: ")


def _unreachable(stderr: str) -> bool:
    low = stderr.lower()
    return any(marker in low for marker in _UNREACHABLE)


def list_partitions() -> list[Partition] | None:
    """Partitions known to the controller; ``None`` when ``sinfo`` is not installed.

    Raises
    ------
    LaunchError
        (exit 1) when ``sinfo`` cannot reach the controller.
    """
    if shutil.which("sinfo") is None:
        return None
    done = run(["sinfo", "-h", "-o", "%P|%c|%m|%a"])
    if done.returncode != 0:
        raise LaunchError(f"no SLURM controller reachable: {slurm_message(done.stderr)}")
    return parse_sinfo(done.stdout)


def _target(partitions: Sequence[Partition], wanted: str | None) -> Partition | None:
    if wanted is None:
        return next((p for p in partitions if p.is_default), None)
    found = next((p for p in partitions if p.name == wanted), None)
    if found is None:
        names = ", ".join(p.name for p in partitions) or "none"
        raise LaunchError(f"partition {wanted!r} does not exist (available: {names})", USAGE)
    return found


def check_request(partitions: Sequence[Partition], options: ClusterOptions) -> None:
    """Compare one job's request with the largest node of its partition (pure).

    Raises
    ------
    LaunchError
        (exit 2) for an unknown partition or more cores/memory than any node has.
    """
    part = _target(partitions, options.partition)
    if part is None:
        return
    if part.cpus and options.cores > part.cpus:
        raise LaunchError(
            f"--cores {options.cores} is more than any node of partition {part.name!r} "
            f"has ({part.cpus} CPUs)",
            USAGE,
        )
    need = options.memory_request_mb()
    if part.memory_mb and need > part.memory_mb:
        raise LaunchError(
            f"--memory {options.memory} ({need} MB per job) is more than any node of "
            f"partition {part.name!r} has ({part.memory_mb} MB)",
            USAGE,
        )


def test_submission(job_script: str) -> None:
    """``sbatch --test-only``: SLURM checks the real job script without submitting it.

    This catches what ``sinfo`` cannot see (accounts, QOS, time limits, bad directives).

    Raises
    ------
    LaunchError
        exit 2 when SLURM rejects the request, exit 1 when it cannot be asked.
    """
    done = run(["sbatch", "--test-only"], stdin=job_script)
    if done.returncode == 0:
        return
    if _unreachable(done.stderr):
        raise LaunchError(f"no SLURM controller reachable: {slurm_message(done.stderr)}", FAILURE)
    raise LaunchError(f"SLURM rejects the job request: {slurm_message(done.stderr)}", USAGE)


def live_job_ids() -> set[str] | None:
    """Ids of this user's jobs that SLURM still holds (pending, running, completing).

    Returns ``None`` when ``squeue`` fails, so that a hiccup of the controller is never
    mistaken for "all jobs ended".
    """
    done = run(["squeue", "-h", "-u", getpass.getuser(), "-o", "%i"])
    if done.returncode != 0:
        return None
    return {line.strip() for line in done.stdout.splitlines() if line.strip()}


def parse_job_states(text: str, ids: Iterable[str]) -> dict[str, str]:
    """Parse ``squeue -o '%i|%T|%r'`` into ``{id: "PENDING (Resources)"}`` for ``ids``."""
    wanted = set(ids)
    states: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.strip().split("|")
        if len(fields) == 3 and fields[0] in wanted:
            job, state, reason = fields
            states[job] = f"{state} ({reason})" if reason and reason != "None" else state
    return states


def describe_jobs(ids: Iterable[str]) -> str:
    """One phrase on what SLURM says about ``ids``, for the timeout message."""
    wanted = sorted(set(ids), key=lambda s: (len(s), s))
    if not wanted:
        return "no job was submitted"
    done = run(["squeue", "-h", "-t", "all", "-u", getpass.getuser(), "-o", "%i|%T|%r"])
    if done.returncode != 0:
        return f"squeue failed: {slurm_message(done.stderr)}"
    states = parse_job_states(done.stdout, wanted)
    parts = [f"job {j} {states.get(j, 'no longer listed')}" for j in wanted]
    return "; ".join(parts)


def cancel(ids: Iterable[str], job_name: str) -> None:
    """Cancel by id, then by this run's unique name (catches a job submitted mid-shutdown)."""
    known = sorted(set(ids))
    if known:
        run(["scancel", *known])
    run(["scancel", "-u", getpass.getuser(), f"--name={job_name}"])


def wait_until_gone(ids: Iterable[str], timeout: float) -> set[str]:
    """Wait until ``squeue`` no longer lists ``ids``; return those still listed."""
    wanted = set(ids)
    deadline = time.monotonic() + timeout
    while True:
        live = live_job_ids()
        left = wanted & live if live is not None else wanted
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.5)
