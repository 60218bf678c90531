"""``ringing_index``: ripples beside strong edges that run parallel to them.

Ringing (the Gibbs phenomenon of band limiting, lossy compression or deconvolution) shows as
bright and dark ripples next to a high-contrast edge, parallel to it. The index looks at the
two flanks of every edge site (3 to 6 pixels from the edge, along its normal) and measures how
far their profile is from monotone, minus the same measure taken *along* the edge on the same
pixels: ripples parallel to the edge appear across it only, while noise and isotropic texture
appear both ways and cancel. Sums run over the strong edges of the plane and are divided by
their step heights. See ``docs/metrics.md`` for the definition, sources and behaviour.

The value is a ``finalize`` step over :class:`RingingPartials`, sums per bin of a histogram of
edge strengths, which add exactly across tiles of a plane (:func:`merge`); the strong-edge
threshold (half the 99.9th percentile of the strengths) is applied only at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pixel_patrol_image._compression_loops import BINS_PER_OCTAVE, SUPPORT
from pixel_patrol_image._jit import compiled

__all__ = ["SUPPORT", "RingingPartials", "finalize", "merge", "ringing_partials", "strong_bin"]

STRONG_PER_MILLE = 999
"""Reference strength: the 99.9th percentile of the strengths of all edge sites of the plane
(high enough that the edges of a few small objects on a noisy field set it)."""

STRONG_OCTAVES = 1
"""Strong edges: sites at most one octave (a factor 2) weaker than the reference."""

MIN_EDGE_CONTRAST = 1.0
"""Least mean step of the strong sites, in standard deviations of their ripple. White noise
gives about 0.3 and photographs 2 or more (their content spreads the ripple); microscopy
images with clear objects 5 to 30."""


@dataclass(frozen=True, slots=True)
class RingingPartials:
    """Per-bin sums of the edge sites of some pixels of a plane.

    Attributes
    ----------
    first_bin
        Strength-histogram bin of ``counts[0]`` (see ``_compression_loops.strength_bin``).
    counts
        int64 number of edge sites per bin.
    used
        int64 number of sites per bin whose ripple and step are finite (those summed).
    ripple
        float64 sum per bin of (ripple across - ripple along), in input units.
    squares
        float64 sum per bin of the squared ripple (for its spread).
    steps
        float64 sum per bin of the step heights, in input units.
    summed_from
        First bin whose sums are complete (sites in lower bins are counted only); 0 when
        every bin is summed.
    """

    first_bin: int
    counts: np.ndarray
    used: np.ndarray
    ripple: np.ndarray
    squares: np.ndarray
    steps: np.ndarray
    summed_from: int = 0

    @classmethod
    def empty(cls, summed_from: int = 0) -> RingingPartials:
        """Partials of a region without edge sites."""
        none = np.zeros(0, np.int64)
        return cls(0, none, none, np.zeros(0), np.zeros(0), np.zeros(0), summed_from)


def ringing_partials(
    plane_with_halo: np.ndarray,
    own_region: tuple[slice, slice],
    global_offset: tuple[int, int],
    plane_shape: tuple[int, int],
) -> RingingPartials:
    """Edge-site sums of the own pixels of a tile; every bin summed.

    ``plane_with_halo`` holds the own pixels ``plane_with_halo[own_region]`` and ``SUPPORT``
    pixels around them (fewer only at the plane border); ``global_offset`` is the plane
    position of ``plane_with_halo[0, 0]`` and ``plane_shape`` the plane's ``(H, W)``. See
    :func:`pixel_patrol_image._tiles.scan_region` for a cheaper two-pass use.
    """
    from pixel_patrol_image._tiles import scan_region

    return scan_region(plane_with_halo, own_region, global_offset, plane_shape)[1]


def merge(*parts: RingingPartials) -> RingingPartials:
    """Sum of partials of disjoint pixel sets: the partials of their union."""
    summed_from = max((p.summed_from for p in parts), default=0)
    used = [p for p in parts if len(p.counts)]
    if not used:
        return RingingPartials.empty(summed_from)
    lo = min(p.first_bin for p in used)
    n = max(p.first_bin + len(p.counts) for p in used) - lo
    counts, used_sites = np.zeros(n, np.int64), np.zeros(n, np.int64)
    out = RingingPartials(lo, counts, used_sites, np.zeros(n), np.zeros(n), np.zeros(n), summed_from)
    for p in used:
        at = slice(p.first_bin - lo, p.first_bin - lo + len(p.counts))
        for name in ("counts", "used", "ripple", "squares", "steps"):
            getattr(out, name)[at] += getattr(p, name)
    return out


def strong_bin(counts: np.ndarray, first_bin: int) -> int | None:
    """First strength bin of the strong sites: ``STRONG_OCTAVES`` below the bin holding the
    99.9th-percentile site (rank ``ceil(0.999 n)`` of ``n``, from the weakest); None without
    sites. Integer arithmetic on counts, so every tiling finds the same bin."""
    whole = np.asarray(counts, dtype=np.float64)  # one compiled variant: exact below 2**53
    found = _strong_bin(whole, first_bin, STRONG_PER_MILLE, int(STRONG_OCTAVES * BINS_PER_OCTAVE))
    return None if found < 0 else int(found)


@compiled
def _strong_bin(counts: np.ndarray, first_bin: int, per_mille: int, below: int) -> int:
    """:func:`strong_bin` in one pass over the counts (whole numbers as float64), -1 without
    sites: the bin where the running count first reaches the rank."""
    n = 0
    for c in counts:
        n += int(c)
    if n == 0:
        return -1
    rank = (per_mille * n + 999) // 1000
    running, j = 0, 0
    while j < len(counts):
        running += int(counts[j])
        if running >= rank:
            break
        j += 1
    return max(first_bin + j - below, 0)


def finalize(parts: RingingPartials) -> float:
    """Ripple per unit step over the strong edge sites: ``max(0, sum ripple) / sum step``.

    Strong sites are those from :func:`strong_bin` on. NaN without sites, without a finite
    strong site, and when the strong sites' mean step is below the standard deviation of
    their ripple (``MIN_EDGE_CONTRAST``): then no edge stands out of the noise (white noise,
    a flat noisy field) and there is nothing ringing could be measured against.
    """
    first = strong_bin(parts.counts, parts.first_bin)
    if first is None:
        return float("nan")
    if first < parts.summed_from:
        raise ValueError("these partials hold no sums for the plane's strong edge bins")
    strong = slice(max(first - parts.first_bin, 0), None)
    add = np.add.reduce  # what ``.sum()`` runs, without its Python layers
    m = int(add(parts.used[strong]))
    steps = float(add(parts.steps[strong]))
    if m == 0 or not steps > 0.0:
        return float("nan")
    total = float(add(parts.ripple[strong]))
    spread = float(add(parts.squares[strong])) - total * total / m  # (m - 1) x variance
    deviation = np.sqrt(max(spread, 0.0) / (m - 1)) if m > 1 else 0.0
    if steps / m < MIN_EDGE_CONTRAST * deviation:
        return float("nan")
    return max(total, 0.0) / steps
