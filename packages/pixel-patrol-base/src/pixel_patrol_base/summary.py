"""What a run did: the counters behind the end-of-run summary and the footer's processing stats."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pixel_patrol_base.worker import TaskStats

KEEP_FAILURES = 10
"""Failed files the end-of-run summary names; the log file and the report list all."""


@dataclass(slots=True)
class RunSummary:
    """What a run did; also stored (as JSON) in the report footer.

    Counters of processed work live in ``stats`` (summed from the tasks); files taken over
    from an interrupted run (``resumed``) or an older report (``reused``) are added on top.
    """

    rows: int = 0
    wall_s: float = 0.0
    workers: int = 0
    executor: str = ""
    tasks: dict[str, int] = field(default_factory=dict)
    resumed: int = 0
    reused: int = 0
    incremental: dict[str, int] | None = None
    stats: TaskStats = field(default_factory=TaskStats)
    conditions: dict[str, int] = field(default_factory=dict)
    """Files found per condition label (``path``)."""
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    """The first :data:`KEEP_FAILURES` error rows of this run: (path, stage, cause)."""
    failed_by_condition: dict[str, int] = field(default_factory=dict)
    inline_cpu_s: float = 0.0
    """CPU seconds of tasks the coordinator ran itself (not coordination work)."""
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds from the start until discovery, processing and the final merge ended."""
    accounting: dict[str, Any] = field(default_factory=dict)
    """Files not read by the loader and image files without one (:mod:`~pixel_patrol_base.accounting`)."""

    def note_failure(self, path: str, stage: str, cause: str, condition: str) -> None:
        """Remember one failed file (or sub-image) for the summary."""
        by = self.failed_by_condition
        by[condition] = by.get(condition, 0) + 1
        if len(self.failures) < KEEP_FAILURES:
            self.failures.append((path, stage, cause))

    @property
    def files(self) -> int:
        """Files in the report: processed now, resumed and reused."""
        return self.stats.files + self.resumed + self.reused

    @property
    def errors(self) -> int:
        """Files or images that failed in this run."""
        return self.stats.errors

    def to_json(self) -> dict[str, Any]:
        """Footer form of the processing stats."""
        return {
            "files": self.files,
            "images": self.stats.images,
            "rows": self.rows,
            "errors": self.errors,
            "resumed_files": self.resumed,
            "incremental": self.incremental,
            "wall_s": round(self.wall_s, 3),
            "workers": self.workers,
            "executor": self.executor,
            "tasks": dict(sorted(self.tasks.items())),
            "files_by_condition": dict(sorted(self.conditions.items())),
            "load_s": round(self.stats.load_s, 3),
            "processor_s": {k: round(v, 3) for k, v in sorted(self.stats.proc_s.items())},
            "peak_worker_rss_mb": round(self.stats.peak_rss_mb, 1),
            "task_cpu_s": round(self.stats.cpu_s, 3),
            "phases_s": dict(self.phases),
            **self.accounting,
        }


__all__ = ["KEEP_FAILURES", "RunSummary"]
