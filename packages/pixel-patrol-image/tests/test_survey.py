"""The exact survey finds the same order statistics as sorting the whole plane."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pixel_patrol_image._robust import plane_stats
from pixel_patrol_image._survey import Survey, from_keys, to_keys

DTYPES = ["bool", "uint8", "int8", "uint16", "int16", "float16", "uint32", "int32", "float32",
          "uint64", "int64", "float64"]


def values(rng: np.random.Generator, dtype: str, shape: tuple[int, int]) -> np.ndarray:
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return rng.random(shape) < 0.3
    if dt.kind in "iu":
        info = np.iinfo(dt)
        starts = [int(info.min), 0 if dt.kind == "u" else -5, int(info.max) - 50]
        lo = starts[int(rng.integers(0, 3))]
        span = [3, 300, 2**20, 2**62][int(rng.integers(0, 4))]
        hi = min(int(info.max), max(lo, lo + span))
        return rng.integers(lo, hi, shape, dtype=dt, endpoint=True)
    scale = [1e-300, 1e-30, 1.0, 1e30, 1e300][int(rng.integers(0, 5))] if dtype == "float64" else 1.0
    x = (rng.normal(size=shape) * scale).astype(dt)
    x[rng.random(shape) < 0.1] = np.nan
    x[rng.random(shape) < 0.03] = np.inf
    x[rng.random(shape) < 0.02] = -0.0
    return x


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(DTYPES), st.integers(1, 30), st.integers(1, 30), st.integers(0, 2**32 - 1))
def test_survey_of_any_tiling_equals_the_whole_plane(dtype: str, h: int, w: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    plane = values(rng, dtype, (h, w))
    ys = sorted({0, h, *rng.integers(0, h, 2).tolist()})
    xs = sorted({0, w, *rng.integers(0, w, 2).tolist()})
    tiles = [plane[a:b, c:d] for a, b in itertools.pairwise(ys) for c, d in itertools.pairwise(xs)]
    tiles = [tiles[i] for i in rng.permutation(len(tiles))]
    survey = Survey(dtype)
    while not survey.done:
        parts = [survey.visit(t) for t in tiles]
        halves = [Survey.merge(parts[: len(parts) // 2] or parts[:1]), Survey.merge(parts[len(parts) // 2 :])]
        merged = Survey.merge(parts) if len(parts) < 2 else Survey.merge(halves)
        survey = survey.advance(merged)
    got = survey.stats()
    finite = np.isfinite(plane) if plane.dtype.kind == "f" else None
    want = plane_stats(plane[None], None if finite is None else finite[None])
    assert got.count[0] == want.count[0]
    if want.count[0]:
        assert np.array_equal(got.ranked.astype(np.float64), want.ranked.astype(np.float64))


@given(st.sampled_from(DTYPES), st.integers(0, 2**32 - 1))
def test_keys_preserve_order_and_round_trip(dtype: str, seed: int) -> None:
    v = values(np.random.default_rng(seed), dtype, (1, 200)).ravel()
    if v.dtype.kind == "f":
        v = v[np.isfinite(v)]
    keys = to_keys(v)
    assert np.array_equal(from_keys(keys, v.dtype).view(np.uint8), v.view(np.uint8))
    order = np.argsort(keys, kind="stable")
    assert np.all(np.diff(v[order].astype(np.float64)) >= 0)
