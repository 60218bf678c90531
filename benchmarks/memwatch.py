"""Run a command and measure its whole process tree: wall, CPU and peak memory.

Why not GNU ``time``: its "maximum resident set size" is that of the single
largest process, while a Dask run is a coordinator plus worker processes. Here
the tree is sampled every ``--interval`` seconds and the sums are kept:

* RSS summed over the tree (double-counts shared pages such as libraries),
* PSS summed over the tree from ``/proc/PID/smaps_rollup`` (shared pages are
  split between the processes that map them, so the sum is the real footprint),
* the largest single-process RSS.

CPU time comes from ``os.wait4`` on every process that exits, which includes the
rusage of the descendants each one reaped. This process makes itself a child
subreaper, so orphaned grandchildren (Dask workers, resource trackers) are
re-parented here and counted too, rather than vanishing to init.

The machine may be shared. "Other CPU" is busy CPU from ``/proc/stat`` over the
run minus the tree's CPU and this watcher's own CPU: the contamination a timing
suffered from everything else that ran at the same time.

The JSON result goes to stdout (or ``--json-out``); the command's own output goes
to stderr (or ``--log``), so stdout stays machine-readable.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

PR_SET_CHILD_SUBREAPER = 36
MB = 1024 * 1024


@dataclass(slots=True)
class Peaks:
    """Running maxima over all samples."""

    rss_sum: int = 0
    pss_sum: int = 0
    single_rss: int = 0
    procs: int = 0
    pss_reads: int = 0  # successful smaps_rollup reads; 0 means PSS is unavailable
    samples: int = 0
    timeline: list[tuple[float, int, int, int, int]] = field(default_factory=list)


@dataclass(slots=True)
class Deadline:
    """Stop a command that runs too long: SIGTERM first, SIGKILL if it ignores that."""

    timeout: float | None
    terminated_at: float | None = None
    killed: bool = False

    def enforce(self, proc: subprocess.Popen, elapsed: float) -> None:
        if self.timeout is None or elapsed < self.timeout or proc.returncode is not None:
            return
        if self.terminated_at is None:
            self.terminated_at = elapsed
            proc.send_signal(signal.SIGTERM)
        elif not self.killed and elapsed - self.terminated_at > 10:
            self.killed = True
            proc.send_signal(signal.SIGKILL)


@dataclass(slots=True)
class Reaped:
    """CPU and exit status collected from ``wait4``."""

    user_s: float = 0.0
    sys_s: float = 0.0
    main_status: int | None = None
    main_exit_t: float | None = None


def become_subreaper() -> bool:
    """Ask Linux to re-parent orphaned descendants to us, so we can reap (and count) them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def busy_seconds() -> float:
    """Busy CPU seconds of the whole machine since boot (all cores, from /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def self_cpu_seconds() -> float:
    """CPU this watcher itself has used (not its children)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def read_pss(pid: int) -> int | None:
    """PSS in bytes from smaps_rollup, or None if the kernel or permissions say no."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def sample(me: psutil.Process, peaks: Peaks, with_pss: bool, t: float) -> None:
    """Measure every live descendant once and update the peaks."""
    rss_sum = pss_sum = single = n = 0
    for proc in me.children(recursive=True):
        try:
            rss = proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            continue
        n += 1
        rss_sum += rss
        single = max(single, rss)
        if with_pss:
            pss = read_pss(proc.pid)  # None if it exited meanwhile or access is denied
            if pss is not None:
                peaks.pss_reads += 1
                pss_sum += pss
    peaks.rss_sum = max(peaks.rss_sum, rss_sum)
    peaks.pss_sum = max(peaks.pss_sum, pss_sum)
    peaks.single_rss = max(peaks.single_rss, single)
    peaks.procs = max(peaks.procs, n)
    peaks.samples += 1
    peaks.timeline.append((round(t, 3), rss_sum, pss_sum, single, n))


def reap(main_pid: int, reaped: Reaped, t: float) -> bool:
    """Collect every exited child; return False once no children are left at all."""
    while True:
        try:
            pid, status, ru = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True
        reaped.user_s += ru.ru_utime
        reaped.sys_s += ru.ru_stime
        if pid == main_pid:
            reaped.main_status = os.waitstatus_to_exitcode(status)
            reaped.main_exit_t = t


def live_cpu(me: psutil.Process) -> tuple[float, list[int]]:
    """CPU of descendants still alive after the grace period (not yet in any rusage)."""
    total, pids = 0.0, []
    for proc in me.children(recursive=True):
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
        pids.append(proc.pid)
    return total, pids


def sleep_until(deadline: float, pidfd: int | None, main_done: bool) -> None:
    """Sleep until the next sample, waking early when the command exits.

    Waiting on a pidfd makes the wall time exact instead of rounded up to the
    sampling interval.
    """
    timeout = max(0.0, deadline - time.perf_counter())
    if pidfd is None or main_done:
        time.sleep(timeout)
    else:
        select.select([pidfd], [], [], timeout)


def poll(
    proc: subprocess.Popen,
    t0: float,
    interval: float,
    with_pss: bool,
    grace: float,
    deadline: Deadline,
) -> tuple[Peaks, Reaped, float, list[int], float]:
    """Sample until the command and all its descendants are gone (or the grace expires)."""
    me = psutil.Process()
    peaks, reaped = Peaks(), Reaped()
    pidfd = os.pidfd_open(proc.pid) if hasattr(os, "pidfd_open") else None
    next_t = time.perf_counter()
    try:
        while True:
            now = time.perf_counter()
            children_left = reap(proc.pid, reaped, now - t0)
            if reaped.main_status is not None:
                proc.returncode = reaped.main_status  # keep Popen from waiting on a reaped pid
                assert reaped.main_exit_t is not None
                if not children_left or now - t0 - reaped.main_exit_t > grace:
                    break
            deadline.enforce(proc, now - t0)
            if now >= next_t:
                sample(me, peaks, with_pss, now - t0)
                next_t += interval * (1 + int((now - next_t) // interval))
            sleep_until(next_t, pidfd, reaped.main_status is not None)
    finally:
        if pidfd is not None:
            os.close(pidfd)
    leftover_cpu, leftover = live_cpu(me)
    return peaks, reaped, time.perf_counter() - t0, leftover, leftover_cpu


def watch(
    cmd: list[str],
    interval: float = 0.25,
    with_pss: bool = True,
    grace: float = 30.0,
    log: IO[Any] | None = None,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
) -> dict[str, Any]:
    """Run ``cmd`` to completion under the sampler and return the figures as a dict."""
    subreaper = become_subreaper()
    out = log if log is not None else sys.stderr
    busy0, self0 = busy_seconds(), self_cpu_seconds()
    load0 = os.getloadavg()[0]
    started, t0 = time.time(), time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    previous = signal.signal(signal.SIGTERM, lambda *_: proc.send_signal(signal.SIGTERM))
    deadline = Deadline(timeout)
    try:
        peaks, reaped, span, leftover, leftover_cpu = poll(
            proc, t0, interval, with_pss, grace, deadline
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    busy = busy_seconds() - busy0
    own = self_cpu_seconds() - self0
    tree_cpu = reaped.user_s + reaped.sys_s + leftover_cpu
    ncpu = os.cpu_count() or 1
    other = max(0.0, busy - tree_cpu - own)
    return {
        "cmd": cmd,
        "returncode": reaped.main_status,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "wall_s": round(reaped.main_exit_t or span, 3),
        "tree_cpu_s": round(tree_cpu, 2),
        "tree_user_s": round(reaped.user_s, 2),
        "tree_sys_s": round(reaped.sys_s, 2),
        "other_cpu_s": round(other, 2),
        "other_cpu_pct": round(100 * other / (span * ncpu), 1) if span > 0 else 0.0,
        "watcher_cpu_s": round(own, 2),
        "ncpu": ncpu,
        "loadavg_1m_start": load0,
        "peak_rss_mb": round(peaks.rss_sum / MB, 1),
        "peak_pss_mb": round(peaks.pss_sum / MB, 1) if peaks.pss_reads else None,
        "peak_single_rss_mb": round(peaks.single_rss / MB, 1),
        "peak_procs": peaks.procs,
        "samples": peaks.samples,
        "interval_s": interval,
        "subreaper": subreaper,
        "timed_out": deadline.terminated_at is not None,
        "leftover_pids": leftover,
        "_timeline": peaks.timeline,
    }


def write_timeline(path: Path, timeline: list[tuple[float, int, int, int, int]]) -> None:
    """CSV of every sample, for plotting memory over time."""
    lines = ["t_s,rss_sum_mb,pss_sum_mb,max_single_rss_mb,procs"]
    for t, rss, pss, single, n in timeline:
        lines.append(f"{t},{rss / MB:.1f},{pss / MB:.1f},{single / MB:.1f},{n}")
    path.write_text("\n".join(lines) + "\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Run a command; report wall, tree CPU, peak tree RSS/PSS and CPU "
        "contamination from other processes as JSON.",
        epilog="Example: memwatch.py --log run.log -- pixel-patrol process data -o out.parquet",
    )
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between samples")
    parser.add_argument("--no-pss", action="store_true", help="skip reading smaps_rollup")
    parser.add_argument(
        "--grace",
        type=float,
        default=30.0,
        help="seconds to wait for descendants after the command exits (default 30)",
    )
    parser.add_argument(
        "--timeout", type=float, help="terminate the command after this many seconds"
    )
    parser.add_argument("--log", type=Path, help="write the command's stdout+stderr here")
    parser.add_argument("--json-out", type=Path, help="write the JSON result here as well")
    parser.add_argument("--timeline", type=Path, help="write every sample to this CSV")
    parser.add_argument("cmd", nargs=argparse.REMAINDER, help="-- command and its arguments")
    args = parser.parse_args(argv)
    if args.cmd and args.cmd[0] == "--":
        args.cmd = args.cmd[1:]
    if not args.cmd:
        parser.error("give the command to run after --")
    if not 0.05 <= args.interval <= 5:
        parser.error("--interval must be between 0.05 and 5 seconds")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log = args.log.open("w") if args.log else None
    try:
        result = watch(args.cmd, args.interval, not args.no_pss, args.grace, log, args.timeout)
    except FileNotFoundError as exc:
        print(f"memwatch: cannot run {args.cmd[0]!r}: {exc}", file=sys.stderr)
        return 127
    finally:
        if log:
            log.close()
    timeline = result.pop("_timeline")
    if args.timeline:
        write_timeline(args.timeline, timeline)
    text = json.dumps(result)
    if args.json_out:
        args.json_out.write_text(text + "\n")
    print(text)
    return 0 if result["returncode"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
