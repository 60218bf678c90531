"""Keep the requested number of jobs while ``process`` runs.

Workers retire at their lifetime (see :mod:`pixel_patrol_slurm.walltime`) and their job
ends; a job may also end early (node failure, preemption). Dask's ``SpecCluster`` does not
resubmit on its own, so every few seconds each ended job is swapped, in the cluster's
specification, for a new entry under a fresh name, and ``scale`` submits it.

A fresh name matters: Dask closes "the job named X" a while after the worker named X left
the scheduler, which would cancel a replacement that reused the name before it connected.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pixel_patrol_slurm import slurm
from pixel_patrol_slurm.cluster import job_ids

if TYPE_CHECKING:
    from dask_jobqueue.slurm import SLURMCluster

MAX_REPLACEMENTS_PER_JOB = 20
"""Stop replacing after this many per requested job: jobs that keep dying need a human."""


def ended_jobs(ids: Mapping[str, str | None], live: set[str]) -> list[str]:
    """Names of jobs that were submitted but that SLURM no longer holds (pure)."""
    return sorted(name for name, job in ids.items() if job is not None and job not in live)


class JobKeeper:
    """Replaces ended jobs and remembers every job id ever submitted (to cancel them all)."""

    def __init__(self, cluster: SLURMCluster, jobs: int) -> None:
        self.cluster = cluster
        self.jobs = jobs
        self.seen: set[str] = set()
        self.replaced = 0

    def remember(self) -> None:
        """Record the ids of the jobs the cluster currently holds."""
        self.seen.update(j for j in job_ids(self.cluster).values() if j)

    def tick(self) -> None:
        """Swap ended jobs for fresh entries, then scale back to ``jobs``.

        ``scale`` runs on every tick, also without an ended job in view: Dask itself drops
        a job whose single worker left, and ``scale`` then submits it again.
        """
        self.remember()
        live = slurm.live_job_ids()
        gone = ended_jobs(job_ids(self.cluster), live) if live is not None else []
        if gone and self.replaced + len(gone) <= MAX_REPLACEMENTS_PER_JOB * self.jobs:
            self._swap(gone)
        self.cluster.scale(jobs=self.jobs)

    def _swap(self, gone: list[str]) -> None:
        cluster = self.cluster
        loop = cluster.loop
        if loop is None:  # the cluster is closing: nothing left to keep
            return

        def swap_on_loop() -> None:
            # On the event loop thread, where the cluster changes these dicts itself.
            # New names are drawn while the old ones are still taken, so they differ.
            for _ in gone:
                cluster.worker_spec.update(cluster.new_worker_spec())
            for name in gone:
                cluster.worker_spec.pop(name, None)
                cluster.workers.pop(name, None)

        loop.add_callback(swap_on_loop)
        self.replaced += len(gone)
        print(
            f"pixel-patrol-slurm: {len(gone)} job(s) ended, submitting replacements",
            file=sys.stderr,
            flush=True,
        )
