"""SLURM walltimes and the worker lifetimes derived from them (pure).

A Dask worker killed by SLURM at the end of its walltime dies in the middle of its tasks.
Giving every worker a ``--lifetime`` shorter than the walltime makes it retire instead: the
scheduler moves its work elsewhere and the job ends cleanly, and pixel-patrol-slurm submits
a fresh job in its place. ``--lifetime-stagger`` spreads the retirements so that workers
started together do not all leave at the same moment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARGIN_FRACTION = 0.10
"""Share of the walltime kept free after the latest retirement (to move data and exit)."""
MARGIN_MIN_S = 30
MARGIN_MAX_S = 600
STAGGER_FRACTION = 0.05
STAGGER_MAX_S = 300
MIN_LIFETIME_S = 10
"""Below this a lifetime is pointless: the worker would retire before doing useful work."""

_UNLIMITED = {"infinite", "unlimited"}
_FORMATS = [
    # SLURM's accepted forms: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S
    (re.compile(r"(\d+)"), (60,)),
    (re.compile(r"(\d+):(\d+)"), (60, 1)),
    (re.compile(r"(\d+):(\d+):(\d+)"), (3600, 60, 1)),
    (re.compile(r"(\d+)-(\d+)"), (86400, 3600)),
    (re.compile(r"(\d+)-(\d+):(\d+)"), (86400, 3600, 60)),
    (re.compile(r"(\d+)-(\d+):(\d+):(\d+)"), (86400, 3600, 60, 1)),
]


def parse_walltime(text: str) -> int | None:
    """Seconds in a SLURM time limit, ``None`` for ``INFINITE``/``UNLIMITED``.

    Raises
    ------
    ValueError
        For anything SLURM would not accept, so the mistake shows before submission.
    """
    value = text.strip()
    if value.lower() in _UNLIMITED:
        return None
    for pattern, factors in _FORMATS:
        match = pattern.fullmatch(value)
        if match:
            seconds = sum(int(g) * f for g, f in zip(match.groups(), factors, strict=True))
            if seconds <= 0:
                raise ValueError(f"walltime must be positive, got {text!r}")
            return seconds
    raise ValueError(
        f"walltime {text!r} is not a SLURM time (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS)"
    )


@dataclass(frozen=True, slots=True)
class Lifetime:
    """A worker retires after ``seconds`` ± ``stagger`` seconds (uniformly drawn by Dask)."""

    seconds: int
    stagger: int

    def worker_args(self) -> list[str]:
        """``dask worker`` arguments; no ``--lifetime-restart``, see :func:`worker_lifetime`."""
        return ["--lifetime", f"{self.seconds}s", "--lifetime-stagger", f"{self.stagger}s"]


def worker_lifetime(walltime_s: int | None) -> Lifetime | None:
    """Lifetime that lets every worker retire before SLURM kills its job.

    The latest retirement (lifetime + stagger) leaves a margin of 10 % of the walltime,
    at least 30 s and at most 10 min; the stagger is 5 % of the walltime, at most 5 min.
    For the default 02:00:00 workers retire between 100 and 110 min.

    ``--lifetime-restart`` is deliberately not used: it would restart the worker inside the
    same job, which SLURM still kills at the walltime, mid-task. Instead the retired job ends
    and a new job replaces it (see :mod:`pixel_patrol_slurm.keeper`).

    Returns
    -------
    Lifetime or None
        ``None`` for unlimited or very short walltimes, where no lifetime is set.
    """
    if walltime_s is None:
        return None
    margin = min(MARGIN_MAX_S, max(MARGIN_MIN_S, walltime_s * MARGIN_FRACTION))
    stagger = min(STAGGER_MAX_S, walltime_s * STAGGER_FRACTION)
    seconds = walltime_s - margin - stagger
    if seconds < MIN_LIFETIME_S:
        return None
    return Lifetime(seconds=int(seconds), stagger=int(stagger))
