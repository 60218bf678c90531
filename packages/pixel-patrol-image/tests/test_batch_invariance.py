"""A plane's metrics do not depend on which leaves the engine stacks with it.

The engine hands a processor stacks of ``n`` leaves, with ``n`` set by the memory budget and
the worker layout (``--mb-per-task``, ``--max-workers``). Reports must not depend on those
settings, so every value has to be bit-identical whether a leaf is processed alone, in any
slice of the stack, at any position, or with the processor's own batches cut differently.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pixel_patrol_base.contracts import ImageContext, LeafStack
from pixel_patrol_image import _planes
from pixel_patrol_image.compression import RasterCompression
from pixel_patrol_image.quality import RasterQuality

PROCESSORS = (RasterQuality(), RasterCompression())


@st.composite
def leaf_stacks(draw: st.DrawFn) -> tuple[np.ndarray, list[int]]:
    """``(n, k, H, W)`` leaves of ``k`` planes each, and cut points splitting the stack."""
    dtype = draw(st.sampled_from(["uint8", "uint16", "int16", "float32"]))
    n, k = draw(st.integers(1, 6)), draw(st.integers(1, 2))
    h = draw(st.one_of(st.integers(1, 12), st.integers(13, 48)))
    w = draw(st.one_of(st.integers(1, 12), st.integers(13, 48)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    data = _scene(rng, (n, k, h, w), dtype)
    cuts = sorted(draw(st.sets(st.integers(1, max(n - 1, 1)), max_size=n - 1)) - {n})
    return data, cuts


def _scene(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Noise on a step edge, scaled to the dtype; floats get NaN/±Inf in some planes."""
    w = shape[-1]
    edge = np.where(np.arange(w) >= w // 2, 1.0, 0.0)[None, None, None, :]
    x = 0.5 + 0.3 * edge + rng.normal(0, rng.uniform(0.001, 0.2), shape)
    if dtype == "float32":
        x = (x * 10.0 ** rng.uniform(-3, 6)).astype(np.float32)
        planes = x.reshape(-1, *shape[-2:])
        for plane in planes[rng.random(len(planes)) < 0.5]:
            bad = rng.random(shape[-2:]) < rng.choice([0.02, 0.3, 1.0])
            plane[bad] = rng.choice([np.nan, np.inf, -np.inf], size=int(bad.sum()))
        return x
    info = np.iinfo(dtype)
    lo, span = max(info.min, -20000), min(info.max, 20000) - max(info.min, -20000)
    return np.clip(lo + x * span * rng.uniform(0.01, 1.0), info.min, info.max).astype(dtype)


def _run(proc: object, data: np.ndarray) -> Mapping[str, np.ndarray]:
    ctx = ImageContext("ZYX", data.shape[1:], str(data.dtype))
    return proc.run(LeafStack(data, ctx))  # type: ignore[attr-defined]


def _same(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> list[str]:
    """Columns whose values differ in any bit (NaN equals NaN)."""
    return [name for name in a if not np.array_equal(a[name], b[name], equal_nan=True)]


@settings(max_examples=150, deadline=None)
@given(leaf_stacks())
def test_results_are_bit_identical_for_any_split_of_the_stack(
    case: tuple[np.ndarray, list[int]],
) -> None:
    data, cuts = case
    bounds = [0, *cuts, len(data)]
    for proc in PROCESSORS:
        whole = _run(proc, data)
        parts = [_run(proc, data[a:b]) for a, b in itertools.pairwise(bounds)]
        joined = {name: np.concatenate([p[name] for p in parts]) for name in whole}
        assert not _same(whole, joined), (proc, _same(whole, joined))
        order = np.random.default_rng(len(data)).permutation(len(data))
        shuffled = _run(proc, data[order])
        back = {name: v[np.argsort(order)] for name, v in shuffled.items()}
        assert not _same(whole, back), (proc, _same(whole, back))


@settings(max_examples=40, deadline=None)
@given(leaf_stacks())
def test_results_do_not_depend_on_the_internal_batch_size(
    case: tuple[np.ndarray, list[int]],
) -> None:
    data, _ = case
    for proc in PROCESSORS:
        whole = _run(proc, data)
        with mock.patch.object(_planes, "BATCH_PIXELS", 1):  # one plane per batch
            single = _run(proc, data)
        assert not _same(whole, single), (proc, _same(whole, single))


def test_the_reported_case_is_bit_identical() -> None:
    """Float planes with NaN and Inf, processed as 6 leaves at once or in stacks of 2."""
    rng = np.random.default_rng(0)
    vol = rng.normal(10, 3, (6, 48, 40)).astype(np.float32)
    vol[1, 3:9, 4:7] = np.nan
    vol[4, 0, 0] = np.inf
    for proc in PROCESSORS:
        whole = _run(proc, vol[:, None])
        pairs = [_run(proc, vol[i : i + 2, None]) for i in (0, 2, 4)]
        joined = {name: np.concatenate([p[name] for p in pairs]) for name in whole}
        assert not _same(whole, joined)
        assert np.isfinite(whole[next(iter(whole))]).all()
