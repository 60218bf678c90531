"""Roll leaf-block statistics up into obs-level rows by the rules columns declare.

Every coarser row is computed directly from the leaf pieces it covers (never from other rows),
using only the :class:`~pixel_patrol_base.contracts.Agg` rule of each column, so any processor
written against the contracts rolls up without code here knowing it. All reductions are
vectorised: the pieces are sorted once by row and reduced with ``ufunc.reduceat``.

Null convention: in float columns NaN means "no value" (statistics never produce NaN for a real
value because NaN pixels are excluded); integer columns have no nulls.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pixel_patrol_base.blocks import LeafGrid
from pixel_patrol_base.contracts import ROW_AXES, Agg, Column


def validate_columns(columns: Sequence[Column]) -> None:
    """Check that MEAN/STD columns name existing weight/mean columns.

    Raises
    ------
    ValueError
        Naming the column with a broken reference, so a faulty processor fails before any
        image is read.
    """
    names = {c.name for c in columns}
    for c in columns:
        if c.agg in (Agg.MEAN, Agg.STD) and c.weight not in names:
            raise ValueError(f"column {c.name!r} ({c.agg}) needs a weight column, got {c.weight!r}")
        if c.agg is Agg.STD and c.mean not in names:
            raise ValueError(f"column {c.name!r} (std) needs a mean column, got {c.mean!r}")
        if c.agg is Agg.SUM_AT_EXTREME and _extreme_agg(columns, c.extreme) is None:
            raise ValueError(
                f"column {c.name!r} (sum_at_extreme) needs a min or max column, got {c.extreme!r}"
            )

        if c.residual is not None and (c.agg is not Agg.MEAN or c.residual not in names):
            raise ValueError(f"column {c.name!r} names a residual {c.residual!r} it cannot use")


def _extreme_agg(columns: Sequence[Column], name: str | None) -> Agg | None:
    """The rule (MIN or MAX) of the column named ``name``; None when there is no such column."""
    for c in columns:
        if c.name == name and c.agg in (Agg.MIN, Agg.MAX):
            return c.agg
    return None


def axis_subsets(row_axes: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """Axis combinations in row order: ``()`` (obs_level 0), single axes, pairs, ..."""
    for level in range(len(row_axes) + 1):
        yield from itertools.combinations(row_axes, level)


@dataclass(frozen=True, slots=True)
class Groups:
    """Pieces sorted by the row they belong to.

    Attributes
    ----------
    order
        Permutation that sorts the pieces by row (stable).
    starts
        Index (into the sorted pieces) where each row's pieces begin.
    sizes
        Number of pieces per row (all > 0).
    ids
        Row id of each sorted piece.
    sorted
        The pieces were already in row order (``order`` is the identity), so values need no
        reordering copy.
    """

    order: np.ndarray
    starts: np.ndarray
    sizes: np.ndarray
    ids: np.ndarray
    sorted: bool = False

    @property
    def singletons(self) -> bool:
        """Every row holds exactly one piece (and pieces are in row order): rows = pieces."""
        return self.sorted and len(self.ids) == len(self.starts)

    @classmethod
    def from_ids(cls, ids: np.ndarray, n_groups: int) -> Groups:
        """Group pieces by row id ``0 .. n_groups-1``; every row must own at least one piece."""
        in_order = bool(np.all(ids[1:] >= ids[:-1]))
        order = np.arange(len(ids)) if in_order else np.argsort(ids, kind="stable")
        sorted_ids = ids if in_order else ids[order]
        sizes = np.bincount(sorted_ids, minlength=n_groups)
        if len(sizes) != n_groups or not np.all(sizes > 0):
            raise ValueError("leaf pieces do not cover every row: the chunks do not tile the image")
        starts = np.zeros(n_groups, dtype=np.intp)
        np.cumsum(sizes[:-1], out=starts[1:])
        return cls(order, starts, sizes, sorted_ids, in_order)

    def sort(self, values: np.ndarray) -> np.ndarray:
        """``values`` (one entry per piece) in row order; no copy when already sorted."""
        return values if self.sorted else values[self.order]

    def reduce(self, ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        """``ufunc.reduceat`` over already sorted ``values`` (first axis = pieces)."""
        if self.singletons:
            return values
        return ufunc.reduceat(values, self.starts, axis=0)


def row_ids(
    block_idx: np.ndarray, axes: Sequence[int], n_blocks: Sequence[int]
) -> tuple[np.ndarray, int]:
    """Row id of each piece for the rows fixing ``axes``: C-order index of its block tuple.

    C order over axes taken in row order gives the documented row order (z0c0, z0c1, z1c0, ...).
    """
    if not axes:
        return np.zeros(len(block_idx), dtype=np.intp), 1
    dims = tuple(int(n_blocks[a]) for a in axes)
    ids = np.ravel_multi_index(tuple(block_idx[:, a] for a in axes), dims)
    return ids.astype(np.intp, copy=False), int(np.prod(dims))


def row_geometry(
    grid: LeafGrid, axes: Sequence[int], n_rows: int, plane_axes: str
) -> dict[str, list[Any]]:
    """obs_level, dim_*, *_size and num_pixels of the rows fixing ``axes``, in row order.

    ``dim_*`` is the block start on fixed axes and None elsewhere; ``*_size`` is the block's
    extent on fixed axes (the last block may be shorter) and the full extent elsewhere.
    """
    idx = np.unravel_index(np.arange(n_rows), [grid.n_blocks[a] for a in axes]) if axes else ()
    fixed = dict(zip(axes, idx, strict=True))
    out: dict[str, list[Any]] = {"obs_level": [len(axes)] * n_rows}
    for letter in ROW_AXES + plane_axes:
        a = grid.dim_order.find(letter)
        out[f"dim_{letter.lower()}"] = (
            (fixed[a] * grid.block[a]).tolist() if a in fixed else [None] * n_rows
        )
    pixels = np.ones(n_rows, dtype=np.int64)
    for a, letter in enumerate(grid.dim_order):
        if a in fixed:
            start = fixed[a] * grid.block[a]
            size = np.minimum(grid.block[a], grid.shape[a] - start).astype(np.int64)
        else:
            size = np.full(n_rows, grid.shape[a], dtype=np.int64)
        out[f"{letter}_size"] = size.tolist()
        pixels *= size
    out["num_pixels"] = pixels.tolist()
    return out


def _is_float(values: np.ndarray) -> bool:
    return values.dtype.kind == "f"


def _agg_min(g: Groups, v: np.ndarray) -> np.ndarray:
    return g.reduce(np.fmin if _is_float(v) else np.minimum, v)


def _agg_max(g: Groups, v: np.ndarray) -> np.ndarray:
    return g.reduce(np.fmax if _is_float(v) else np.maximum, v)


def _agg_sum(g: Groups, v: np.ndarray) -> np.ndarray:
    if not _is_float(v):
        return g.reduce(np.add, v)
    valid = ~np.isnan(v)
    total = g.reduce(np.add, np.where(valid, v, 0.0))
    return np.where(g.reduce(np.add, valid.astype(np.int64)) > 0, total, np.nan)


def _agg_first(g: Groups, v: np.ndarray) -> np.ndarray:
    return v if g.singletons else v[g.starts]


def _weighted_mean(g: Groups, v: np.ndarray, w: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Σwv/Σw over valid pieces; a row with exactly one valid piece keeps that value as is."""
    v = np.where(valid, v, 0.0)  # invalid pieces may hold ±inf (with weight 0)
    num = g.reduce(np.add, w * v)
    den = g.reduce(np.add, np.where(valid, w, 0.0))
    single = g.reduce(np.add, v)
    n_valid = g.reduce(np.add, valid.astype(np.int64))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / den, np.nan)
    return np.where(n_valid == 1, single, out)


EXTREME = 2.0**400
"""Values beyond this magnitude (or nonzero below its inverse) are rolled up in a frame."""


FEW = 8
"""Arrays up to this length (the rows of a small image) are checked value by value."""


def _extreme(*arrays: np.ndarray) -> bool:
    """Whether some finite value is so large (or so small) that products or squares of it
    may overflow (or underflow) float64."""
    for a in arrays:
        if len(a) <= FEW:  # a loop over a few Python floats beats five numpy calls
            if any(EXTREME < abs(x) < np.inf or 0 < abs(x) < 1 / EXTREME for x in a.tolist()):
                return True
            continue
        m = np.abs(a[np.isfinite(a)])
        if m.size and (m.max() > EXTREME or (m[m > 0].size and m[m > 0].min() < 1 / EXTREME)):
            return True
    return False


CANCELLATION = 2.0**20
"""Means this many times larger than their spread are combined from their differences."""


def _needs_care(mean: np.ndarray, lo: np.ndarray | None, valid: np.ndarray) -> bool:
    """Whether plain weighted sums of these means would lose precision: extreme values,
    residuals that float64 means could not hold, or means large against their spread."""
    if _extreme(mean) or (lo is not None and bool((lo[valid] != 0).any())):
        return True
    m = mean[valid]
    if m.size < 2:
        return False
    spread = float(m.max() - m.min())
    return bool(np.abs(m).max() > CANCELLATION * spread) if spread > 0 else False


def _frames(g: Groups, valid: np.ndarray, *arrays: np.ndarray) -> np.ndarray:
    """Per piece, the exponent that brings its row's largest valid magnitude near 1."""
    big = np.zeros(len(valid))
    for a in arrays:
        big = np.fmax(big, np.where(valid, np.abs(a), 0.0))
    top = g.reduce(np.fmax, big)
    frame = -np.frexp(np.where(top > 0, top, 1.0))[1]
    result: np.ndarray = frame[g.ids]
    return result


def _agg_mean(
    g: Groups, v: np.ndarray, w: np.ndarray, lo: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean per row and its residual (zeros without ``lo``, see :func:`_precise`)."""
    v = v.astype(np.float64, copy=False)
    valid = (w > 0) & np.isfinite(v)
    if not _needs_care(v, lo, valid):
        if g.singletons:  # what _weighted_mean gives a row of one piece, in one step
            return np.where(valid, v, np.nan), np.zeros(len(v))
        return _weighted_mean(g, v, w, valid), np.zeros(len(g.starts))
    if g.singletons:
        return _single_precise(v, lo, valid)
    lo = np.zeros(len(v)) if lo is None else np.where(valid, lo.astype(np.float64), 0.0)
    frame = _frames(g, valid, v)
    means = _precise(g, np.ldexp(v, frame), np.ldexp(lo, frame), w, valid)
    row_frame = -frame[g.starts] if len(frame) else frame
    return np.ldexp(means.hi, row_frame), np.ldexp(means.lo, row_frame)


def _single_precise(
    v: np.ndarray, lo: np.ndarray | None, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The framed path of :func:`_agg_mean` for rows of one piece each, with the same
    operations on the same values (so the same bits, signed zeros included) and none of
    the reductions a row of one piece does not need."""
    frame = -np.frexp(np.where(valid & (v != 0), np.abs(v), 1.0))[1]
    lo = np.zeros(len(v)) if lo is None else np.where(valid, lo.astype(np.float64), 0.0)
    ref = np.where(valid, np.ldexp(v, frame), 0.0)
    d = np.where(valid, (ref - ref) + np.ldexp(lo, frame), 0.0)
    d = np.where(np.isfinite(d), d, 0.0)
    hi, err = _two_sum(ref, d)
    return (
        np.ldexp(np.where(valid, hi, np.nan), -frame),
        np.ldexp(np.where(valid, err, 0.0), -frame),
    )


def _agg_std(
    g: Groups, sd: np.ndarray, w: np.ndarray, mu: np.ndarray, lo: np.ndarray | None = None
) -> np.ndarray:
    """Pooled population std: Σw(σ² + (μ - μ_row)²) / Σw over pieces with w > 0.

    Rows with values near the float64 limits (or subnormal ones) are pooled in a
    power-of-two frame, so that neither the squares nor the weighted sums overflow; with a
    mean residual ``lo`` the deviations are taken in double precision of the spread.
    """
    sd = sd.astype(np.float64, copy=False)
    mu = mu.astype(np.float64, copy=False)
    valid = (w > 0) & np.isfinite(sd) & np.isfinite(mu)
    if not _needs_care(mu, lo, valid) and not _extreme(sd):
        if g.singletons:  # what _pooled gives a row of one piece
            return np.where(valid, sd, np.nan)
        return _pooled(g, sd, w, mu, valid)
    frame = _frames(g, valid, sd, mu)
    if g.singletons:  # _pooled of one framed piece: its framed std
        single: np.ndarray = np.ldexp(np.where(valid, np.ldexp(sd, frame), np.nan), -frame)
        return single
    lo = np.zeros(len(mu)) if lo is None else np.where(valid, lo.astype(np.float64), 0.0)
    means = _precise(g, np.ldexp(mu, frame), np.ldexp(lo, frame), w, valid)
    pooled = _pooled(g, np.ldexp(sd, frame), w, means.deviation, valid, centred=True)
    result: np.ndarray = np.ldexp(pooled, -frame[g.starts] if len(frame) else frame)
    return result


@dataclass(frozen=True, slots=True)
class _Means:
    """Row means in double precision (``hi + lo``) and each piece's deviation from its row."""

    hi: np.ndarray
    lo: np.ndarray
    deviation: np.ndarray


def _precise(g: Groups, hi: np.ndarray, lo: np.ndarray, w: np.ndarray, valid: np.ndarray) -> _Means:
    """Weighted means of ``hi + lo`` per row, counted from a reference inside each row.

    The reference (the row's largest valid mean) is subtracted first: means close to it
    subtract exactly, so their differences, the weighted mean of the differences and each
    piece's deviation keep the precision of the spread however large the means are.
    """
    ref = g.reduce(np.fmax, np.where(valid, hi, np.nan))
    ref = np.where(np.isfinite(ref), ref, 0.0)
    d = np.where(valid, (hi - ref[g.ids]) + lo, 0.0)
    m = _weighted_mean(g, d, w, valid)
    m = np.where(np.isfinite(m), m, 0.0)
    row_hi, row_lo = _two_sum(ref, m)
    empty = g.reduce(np.add, valid.astype(np.int64)) == 0
    row_hi = np.where(empty, np.nan, row_hi)
    return _Means(row_hi, np.where(empty, 0.0, row_lo), d - m[g.ids])


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a + b`` rounded, and the rounding error (exact; Knuth's TwoSum)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _pooled(
    g: Groups,
    sd: np.ndarray,
    w: np.ndarray,
    mu: np.ndarray,
    valid: np.ndarray,
    centred: bool = False,
) -> np.ndarray:
    """Pooled std from stds and means (``centred``: ``mu`` already holds the deviations)."""
    dev = mu if centred else np.where(valid, mu - _weighted_mean(g, mu, w, valid)[g.ids], 0.0)
    dev = np.where(valid, dev, 0.0)
    term = np.where(valid, w * (sd * sd + dev * dev), 0.0)
    den = g.reduce(np.add, np.where(valid, w, 0.0))
    single = g.reduce(np.add, np.where(valid, sd, 0.0))
    n_valid = g.reduce(np.add, valid.astype(np.int64))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, np.sqrt(g.reduce(np.add, term) / den), np.nan)
    return np.where(n_valid == 1, single, out)


_SIMPLE: dict[Agg, Callable[[Groups, np.ndarray], np.ndarray]] = {
    Agg.MIN: _agg_min,
    Agg.MAX: _agg_max,
    Agg.SUM: _agg_sum,
    Agg.HIST: lambda g, v: g.reduce(np.add, v),
    Agg.FIRST: _agg_first,
}


_AS_IS = frozenset({Agg.MIN, Agg.MAX, Agg.HIST, Agg.FIRST, Agg.SUM_AT_EXTREME})
"""Rules whose value for a row of one piece is that piece's value, unchanged."""


def aggregate(
    columns: Sequence[Column], values: Mapping[str, np.ndarray], groups: Groups
) -> dict[str, np.ndarray]:
    """Apply each column's declared rule to its piece values, one output entry per row.

    Parameters
    ----------
    columns
        Declarations of the columns to produce (internal ones included, they may be weights).
    values
        Piece values per column name, first axis = pieces, in the original (unsorted) order.
    groups
        Row membership of the pieces.
    """
    ordered = {c.name: groups.sort(np.asarray(values[c.name])) for c in columns}
    by_name = {c.name: c for c in columns}
    residuals = {c.residual for c in columns if c.residual}
    out: dict[str, np.ndarray] = {}
    for c in columns:
        v = ordered[c.name]
        if groups.singletons and c.agg in _AS_IS and c.name not in residuals:
            out[c.name] = v  # what these rules give a row of one piece
        elif c.agg is Agg.MEAN:
            lo = ordered[c.residual] if c.residual else None
            out[c.name], row_lo = _agg_mean(groups, v, _weights(ordered, c.weight), lo)
            if c.residual:
                out[c.residual] = row_lo
        elif c.agg is Agg.STD:
            assert c.mean is not None
            residual = by_name[c.mean].residual if c.mean in by_name else None
            lo = ordered[residual] if residual else None
            w = _weights(ordered, c.weight)
            out[c.name] = _agg_std(groups, v, w, ordered[c.mean], lo)
        elif c.agg is Agg.SUM_AT_EXTREME:
            assert c.extreme is not None
            biggest = _extreme_agg(columns, c.extreme) is Agg.MAX
            out[c.name] = _agg_sum_at_extreme(groups, v, ordered[c.extreme], biggest)
        elif c.name not in residuals:
            out[c.name] = _SIMPLE[c.agg](groups, v)
    return out


def _agg_sum_at_extreme(
    g: Groups, counts: np.ndarray, keys: np.ndarray, biggest: bool
) -> np.ndarray:
    """Σ counts over the pieces whose key equals the row's max (``biggest``) or min key.

    A piece whose extreme is below the row's maximum holds no pixel at that maximum, so only
    the pieces that reach it contribute; ties between pieces add up.
    """
    if g.singletons:
        return counts
    if keys.dtype.kind == "f":
        row = g.reduce(np.fmax if biggest else np.fmin, keys)
    else:
        row = g.reduce(np.maximum if biggest else np.minimum, keys)
    at = keys == row[g.ids]
    return g.reduce(np.add, np.where(at, counts, 0))


def _weights(ordered: Mapping[str, np.ndarray], name: str | None) -> np.ndarray:
    if name is None or name not in ordered:
        raise ValueError(f"weight column {name!r} is missing")
    return np.asarray(ordered[name], dtype=np.float64)
