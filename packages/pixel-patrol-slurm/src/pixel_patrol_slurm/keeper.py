"""Keep the requested number of jobs while ``process`` runs.

Workers retire at their lifetime (see :mod:`pixel_patrol_slurm.walltime`) and their job
ends; a job may also end early (node failure, preemption). Dask's ``SpecCluster`` does not
resubmit on its own, so every few seconds the ended jobs are dropped from the cluster's
specification and ``scale`` brings the count back, submitting fresh jobs.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pixel_patrol_slurm import slurm
from pixel_patrol_slurm.cluster import job_ids

if TYPE_CHECKING:
    from dask_jobqueue import SLURMCluster

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
        """Drop ended jobs from the specification and scale back to ``jobs``."""
        self.remember()
        live = slurm.live_job_ids()
        if live is None:
            return
        gone = ended_jobs(job_ids(self.cluster), live)
        if not gone:
            return
        if self.replaced + len(gone) > MAX_REPLACEMENTS_PER_JOB * self.jobs:
            return
        for name in gone:
            self.cluster.worker_spec.pop(name, None)
        self.replaced += len(gone)
        print(
            f"pixel-patrol-slurm: {len(gone)} job(s) ended, submitting replacements",
            file=sys.stderr,
            flush=True,
        )
        self.cluster.scale(jobs=self.jobs)
