"""Tiled processors: values do not depend on memory chunks, tile size or stacking."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from engine_testkit import PROCESSORS, grid_tiling, plain
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiled_testkit import Stencil, lower_median, stencil

from pixel_patrol_base.chunked import rows_in_chunks
from pixel_patrol_base.contracts import ImageHeader, TiledProcessor
from pixel_patrol_base.engine import analyse_chunk, process_image

TOY = [Stencil(), *PROCESSORS]
EXTENT = {"Z": (1, 3), "C": (1, 2), "Y": (1, 23), "X": (1, 27)}


@st.composite
def cases(draw: st.DrawFn) -> tuple[np.ndarray, ImageHeader, dict[str, int], int]:
    dim_order = draw(st.sampled_from(["YX", "ZYX", "CYX", "ZCYX"]))
    shape = tuple(draw(st.integers(*EXTENT[a])) for a in dim_order)
    slice_size = {}
    if "Z" in dim_order and draw(st.booleans()):
        slice_size["Z"] = draw(st.sampled_from([2, -1]))
    if draw(st.booleans()):
        slice_size[draw(st.sampled_from("YX"))] = draw(st.integers(3, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    image = np.random.default_rng(seed).integers(0, 200, shape).astype(np.int16)
    return image, ImageHeader(dim_order, shape, "int16"), slice_size, seed


def _close(a: list, b: list) -> bool:
    return all(
        (x is None and y is None) or (x is not None and y is not None and abs(x - y) <= 1e-9 * max(1.0, abs(y)))
        for x, y in zip(a, b, strict=True)
    )


def test_the_toy_processor_follows_the_contract() -> None:
    assert isinstance(Stencil(), TiledProcessor)


def test_whole_plane_value_is_the_documented_stencil() -> None:
    plane = np.arange(30, dtype=np.int16).reshape(5, 6)
    rows = process_image(plane, ImageHeader("YX", plane.shape, "int16"), {}, [Stencil()])
    want = stencil(plane.astype(float), lower_median(plane), 0).mean()
    assert rows["stencil_mean"] == [pytest.approx(want, rel=1e-12)]
    assert rows["stencil_median"] == [14.0]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.integers(1, 120))
def test_chunks_and_tiles_give_the_whole_plane_values(case: tuple, tile_pixels: int) -> None:
    image, header, slice_size, seed = case
    whole = plain(process_image(image, header, slice_size, TOY))
    boxes = grid_tiling(np.random.default_rng(seed + 1), header.shape)
    with mock.patch("pixel_patrol_base.planes.TILE_PIXELS", tile_pixels):
        tiled = plain(rows_in_chunks(image, header, slice_size, TOY, boxes))
        small = plain(process_image(image, header, slice_size, TOY))
    for rows in (tiled, small):
        assert rows.keys() == whole.keys()
        for name, values in whole.items():
            if name.startswith("stencil") or name in ("mean_intensity", "std_intensity"):
                assert _close(rows[name], values), name
            else:
                assert rows[name] == values, name


def test_a_cut_plane_without_its_survey_is_refused() -> None:
    image = np.arange(80, dtype=np.int16).reshape(8, 10)
    header = ImageHeader("YX", image.shape, "int16")
    with pytest.raises(ValueError, match="survey"):
        analyse_chunk(image[:4], (slice(0, 4), slice(0, 10)), header, {}, [Stencil()])


def test_a_chunk_without_its_halo_is_refused() -> None:
    image = np.arange(80, dtype=np.int16).reshape(8, 10)
    header = ImageHeader("YX", image.shape, "int16")
    program = Stencil().program(None, (8, 10)).advance(np.arange(80))  # type: ignore[arg-type]
    region = (slice(0, 4), slice(0, 10))
    with pytest.raises(ValueError, match="halo"):
        analyse_chunk(
            image[:4], region, header, {}, [Stencil()], read=region,
            programs={("stencil", (0, 0)): program},
        )


def test_timed_processors_keep_their_tiled_path() -> None:
    """Workers wrap processors to time them; the wrapper must stay a tiled processor."""
    from pixel_patrol_base.contracts import is_tiled
    from pixel_patrol_base.worker import TaskStats, timed

    stats = TaskStats()
    (wrapped,) = timed([Stencil()], stats)
    assert is_tiled(wrapped) and wrapped.HALO == Stencil.HALO
    image = np.random.default_rng(1).integers(0, 50, (2, 17, 23)).astype(np.int16)
    header = ImageHeader("ZYX", image.shape, "int16")
    with mock.patch("pixel_patrol_base.planes.TILE_PIXELS", 60):
        got = process_image(image, header, {}, [wrapped])
        want = process_image(image, header, {}, [Stencil()])
    assert _close(got["stencil_mean"], want["stencil_mean"])
    assert stats.proc_s["stencil"] > 0
