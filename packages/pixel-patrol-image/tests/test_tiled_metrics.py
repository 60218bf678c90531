"""Budget independence: every metric equals its whole-plane value however the plane is cut.

A plane larger than ``--mb-per-task`` is read in memory chunks carrying the processors' halo
and surveyed across chunks; a plane larger than a tile is visited tile by tile in memory. In
both cases the sums of the tiles' own pixels must give the value of the whole plane, to
float rounding (1e-6 relative), for every pixel type, with NaN holes, at any tiling.
"""

from __future__ import annotations

import itertools
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixel_patrol_base.chunked import rows_in_chunks
from pixel_patrol_base.contracts import ImageHeader, TiledProcessor
from pixel_patrol_base.engine import process_image
from pixel_patrol_image._compression_loops import SUPPORT as RING_HALO
from pixel_patrol_image.compression import RasterCompression
from pixel_patrol_image.quality import RasterQuality

QUALITY = ("michelson_contrast", "mscn_variance", "texture_heterogeneity", "laplacian_variance")
COMPRESSION = ("blocking_index", "ringing_index")
REL = 1e-6


def picture(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Discs and a bar on a gradient with noise (strong edges for the ringing index)."""
    h, w = shape[-2:]
    yy, xx = np.mgrid[:h, :w]
    base = 0.2 + 0.3 * xx / max(w, 1) + rng.normal(0, rng.uniform(0.005, 0.05), shape)
    base = base + 0.5 * (((yy - h / 2) ** 2 + (xx - w / 3) ** 2) < (min(h, w) / 4) ** 2)
    base[..., h // 3 : h // 3 + 3, :] += 0.3
    if dtype in ("float32", "float64"):
        x = (base * 10.0 ** rng.uniform(-3, 4) + rng.normal(0, 100)).astype(dtype)
        x[rng.random(shape) < rng.choice([0.0, 0.01, 0.1])] = np.nan
        return x
    info = np.iinfo(dtype)
    lo = max(info.min, -30000)
    span = min(info.max, 30000) - lo
    return np.clip(lo + base * span * rng.uniform(0.01, 0.9), info.min, info.max).astype(dtype)


@st.composite
def images(draw: st.DrawFn, max_side: int = 48) -> tuple[np.ndarray, ImageHeader, int]:
    dim_order = draw(st.sampled_from(["YX", "ZYX"]))
    dtype = draw(st.sampled_from(["uint8", "uint16", "int16", "int32", "float32", "float64"]))
    shape = tuple(draw(st.integers(1, 2)) if a == "Z" else draw(st.integers(5, max_side)) for a in dim_order)
    seed = draw(st.integers(0, 2**32 - 1))
    image = picture(np.random.default_rng(seed), shape, dtype)
    return image, ImageHeader(dim_order, shape, dtype), seed


def boxes(rng: np.random.Generator, shape: tuple[int, ...]) -> list[tuple[slice, ...]]:
    """A random grid of memory chunks (cut points on every axis), in random order."""
    per_axis = []
    for n in shape:
        k = int(rng.integers(0, min(n, 4)))
        cuts = sorted(rng.choice(np.arange(1, n), size=k, replace=False).tolist()) if k else []
        per_axis.append([slice(a, b) for a, b in itertools.pairwise([0, *cuts, n])])
    grid = list(itertools.product(*per_axis))
    return [grid[i] for i in rng.permutation(len(grid))]


def assert_close(got: dict[str, list[Any]], want: dict[str, list[Any]], names: tuple[str, ...]) -> None:
    for name in names:
        for g, w in zip(got[name], want[name], strict=True):
            assert (g is None) == (w is None), (name, g, w)
            if w is not None:
                assert abs(g - w) <= REL * abs(w) + 1e-300, (name, g, w, abs(g - w) / abs(w))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(images(), st.integers(30, 3000))
def test_quality_metrics_do_not_depend_on_chunks_or_tiles(case: tuple, tile: int) -> None:
    image, header, seed = case
    procs = [RasterQuality()]
    whole = process_image(image, header, {}, procs)
    chunks = boxes(np.random.default_rng(seed), header.shape)
    with mock.patch("pixel_patrol_base.planes.TILE_PIXELS", tile):
        assert_close(rows_in_chunks(image, header, {}, procs, chunks), whole, QUALITY)
        assert_close(process_image(image, header, {}, procs), whole, QUALITY)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(images(max_side=44), st.integers(1800, 5000))
def test_compression_metrics_do_not_depend_on_chunks_or_tiles(case: tuple, tile: int) -> None:
    image, header, seed = case
    procs = [RasterCompression()]
    whole = process_image(image, header, {}, procs)
    chunks = boxes(np.random.default_rng(seed), header.shape)
    with mock.patch("pixel_patrol_base.planes.TILE_PIXELS", tile):
        assert_close(rows_in_chunks(image, header, {}, procs, chunks), whole, COMPRESSION)


def test_budget_cut_used_to_change_the_metrics() -> None:
    """The reported case: a 512x512 camera-like plane cut in pieces by a small budget."""
    rng = np.random.default_rng(0)
    image = picture(rng, (160, 160), "uint8")
    header = ImageHeader("YX", image.shape, "uint8")
    procs = [RasterQuality(), RasterCompression()]
    whole = process_image(image, header, {}, procs)
    pieces = [(slice(0, 40), slice(None)), (slice(40, 100), slice(None)), (slice(100, 160), slice(None))]
    assert_close(rows_in_chunks(image, header, {}, procs, pieces), whole, QUALITY + COMPRESSION)
    assert whole["ringing_index"][0] is not None and whole["mscn_variance"][0] is not None


@pytest.mark.parametrize("proc", [RasterQuality(), RasterCompression()], ids=lambda p: p.NAME)
def test_processors_declare_their_halo_and_programs(proc: TiledProcessor) -> None:
    assert isinstance(proc, TiledProcessor)
    halo = 3 if proc.NAME == "raster-quality" else RING_HALO
    assert halo == proc.HALO
