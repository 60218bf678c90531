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
threshold (half the 99th percentile of the strengths) is applied only at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pixel_patrol_image._compression_loops import BINS_PER_OCTAVE, SUPPORT

__all__ = ["SUPPORT", "RingingPartials", "finalize", "merge", "ringing_partials"]

STRONG_PERCENTILE = 99
"""Reference strength: the 99th percentile of the strengths of all edge sites of the plane."""

STRONG_OCTAVES = 1
"""Strong edges: sites at most one octave (a factor 2) weaker than the reference."""

SIGNIFICANCE = 2.0
"""Standard errors of the summed ripple taken off before it counts (about 2.3 % of noise-only
planes keep a value above 0)."""


@dataclass(frozen=True, slots=True)
class RingingPartials:
    """Per-bin sums of the edge sites of some pixels of a plane.

    Attributes
    ----------
    first_bin
        Strength-histogram bin of ``counts[0]`` (see ``_compression_loops.strength_bin``).
    counts
        int64 number of edge sites per bin.
    ripple
        float64 sum per bin of (ripple across - ripple along), in input units.
    squares
        float64 sum per bin of the squared ripple (for its standard error).
    steps
        float64 sum per bin of the step heights, in input units.
    """

    first_bin: int
    counts: np.ndarray
    ripple: np.ndarray
    squares: np.ndarray
    steps: np.ndarray

    @classmethod
    def empty(cls) -> RingingPartials:
        """Partials of a region without edge sites."""
        return cls(0, np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0))


def ringing_partials(
    plane_with_halo: np.ndarray,
    own_region: tuple[slice, slice],
    global_offset: tuple[int, int],
    plane_shape: tuple[int, int],
) -> RingingPartials:
    """Edge-site sums of the own pixels of a tile (see :func:`pixel_patrol_image._tiles.scan_region`)."""
    from pixel_patrol_image._tiles import scan_region

    return scan_region(plane_with_halo, own_region, global_offset, plane_shape)[1]


def merge(*parts: RingingPartials) -> RingingPartials:
    """Sum of partials of disjoint pixel sets: the partials of their union."""
    used = [p for p in parts if len(p.counts)]
    if not used:
        return RingingPartials.empty()
    lo = min(p.first_bin for p in used)
    hi = max(p.first_bin + len(p.counts) for p in used)
    out = RingingPartials(lo, np.zeros(hi - lo, np.int64), *(np.zeros(hi - lo) for _ in range(3)))
    for p in used:
        at = slice(p.first_bin - lo, p.first_bin - lo + len(p.counts))
        out.counts[at] += p.counts
        out.ripple[at] += p.ripple
        out.squares[at] += p.squares
        out.steps[at] += p.steps
    return out


def finalize(parts: RingingPartials) -> float:
    """Significant ripple per unit step over the strong edge sites; NaN without any.

    ``max(0, sum ripple - SIGNIFICANCE * standard error of that sum) / sum step``: the
    ripple of ``n`` sites is a sum of terms that average zero without ringing, so noise alone
    leaves a sum of about ``sqrt(n)`` times their spread; only what stands above twice that
    counts.

    Strong: the site's bin is at most ``STRONG_OCTAVES`` octaves below the bin that holds the
    ``STRONG_PERCENTILE``-th percentile site (rank ``ceil(0.99 n)`` of ``n`` sites, counted
    from the weakest). Bins are exact intervals of strengths, so the choice is the same
    whatever the tiling.
    """
    n = int(parts.counts.sum())
    if n == 0:
        return float("nan")
    rank = (STRONG_PERCENTILE * n + 99) // 100  # ceil(0.99 n), exact in integers
    reference = int(np.searchsorted(np.cumsum(parts.counts), rank))
    strong = slice(max(reference - STRONG_OCTAVES * BINS_PER_OCTAVE, 0), None)
    steps = float(parts.steps[strong].sum())
    if not steps > 0.0:
        return float("nan")
    m = int(parts.counts[strong].sum())
    total = float(parts.ripple[strong].sum())
    spread = float(parts.squares[strong].sum()) - total * total / m  # (m - 1) x variance
    error = np.sqrt(max(spread, 0.0) * m / (m - 1)) if m > 1 else abs(total)
    return max(total - SIGNIFICANCE * error, 0.0) / steps
