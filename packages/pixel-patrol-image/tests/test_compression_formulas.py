"""raster-compression formulas on small arrays whose values are worked out by hand.

Both metrics are computed in float64 from the input values, so small-integer planes give
exact sums; the ringing index is also checked against a pixel-by-pixel reference.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from image_metrics_testkit import metrics, ref_ringing

# ---------------------------------------------------------------- blocking_index

ROW = np.array([0, 2, 0, 2, 0, 2, 0, 2, 10, 11, 10, 11, 10, 11, 10, 11], dtype=np.float64)
# off-grid steps: 7 of 2 and 7 of 1 (mean 1.5); the one grid step |10 - 2| = 8 -> 8 / 1.5


def test_blocking_index_of_one_row_by_hand() -> None:
    assert metrics(ROW[None, :])["blocking_index"] == pytest.approx(8 / 1.5, rel=1e-12)


def test_blocking_index_pools_rows_and_columns() -> None:
    # x[i, j] = r[j] + 2 r[i]: horizontal steps as ROW (16 rows), vertical ones doubled:
    # on-grid (16*8 + 16*16) / 32 = 12, off-grid (16*21 + 16*42) / 448 = 2.25
    r = ROW
    plane = r[None, :] + 2 * r[:, None]
    assert metrics(plane)["blocking_index"] == pytest.approx(12 / 2.25, rel=1e-12)


def test_blocking_index_drops_pairs_with_a_nan() -> None:
    row = ROW.copy()
    row[2] = np.nan  # removes the off-grid steps (1,2) and (2,3), both 2: off = 17 / 12
    assert metrics(row[None, :])["blocking_index"] == pytest.approx(8 / (17 / 12), rel=1e-12)


def test_blocking_index_follows_the_grid_from_the_plane_origin() -> None:
    # rolled by 4: steps 1,1,1,11,2,2,2,[2],2,2,2,8,1,1,1 with the grid step (7, 8) = 2
    # on grid; the 14 others sum to 37 -> 2 / (37 / 14) = 28 / 37 (below 1)
    shifted = np.roll(ROW, 4)
    assert metrics(shifted[None, :])["blocking_index"] == pytest.approx(28 / 37, rel=1e-12)


@pytest.mark.parametrize(
    ("shape", "why"),
    [((8, 8), "no grid step inside an 8x8 plane"), ((1, 8), "no grid step in 8 columns")],
)
def test_blocking_index_is_null_without_a_grid_step(shape: tuple[int, int], why: str) -> None:
    plane = np.arange(shape[0] * shape[1], dtype=np.float64).reshape(shape) ** 1.5
    assert math.isnan(metrics(plane)["blocking_index"]), why


def test_blocking_index_is_null_without_off_grid_activity() -> None:
    # a mosaic of flat 8x8 tiles: infinite blockiness has no finite ratio
    tiles = np.kron(np.arange(4, dtype=np.float64).reshape(2, 2), np.ones((8, 8)))
    assert math.isnan(metrics(tiles)["blocking_index"])


# ---------------------------------------------------------------- ringing_index


def step_plane(ripple: float = 0.0, height: int = 16) -> np.ndarray:
    """A vertical step from 0 to 100 between columns 11 and 12 of a 16 x 24 plane.

    With ``ripple``, column 16 (five pixels right of the edge site at column 11) is raised
    by that much.
    """
    plane = np.zeros((height, 24))
    plane[:, 12:] = 100.0
    plane[:, 16] += ripple
    return plane


def test_a_clean_step_has_no_ringing() -> None:
    # sites at column 11 of rows 2..14; both flanks are flat: no ripple across or along
    assert metrics(step_plane())["ringing_index"] == 0.0


@pytest.mark.parametrize("ripple", [2.0, 10.0, -30.0])
def test_ringing_index_of_a_ripple_beside_a_step_by_hand(ripple: float) -> None:
    # right flank 100, 100, 100 + a, 100: total variation 2|a|, net change 0; left flank and
    # every along-edge run are flat; step 100 per site. The ripple's own sites (strength
    # |a|/1, two per row) are more than an octave weaker than the step's and not strong.
    assert metrics(step_plane(ripple))["ringing_index"] == pytest.approx(
        2 * abs(ripple) / 100, rel=1e-12
    )


def test_ripples_along_the_edge_are_subtracted() -> None:
    # the same ripple repeated along the edge reads as ringing; alternating it row by row
    # turns it into along-edge structure: across only on odd rows (2a), along a/... per site
    plane = step_plane(10.0)
    plane[::2, 16] = 100.0  # ripple on odd rows only
    got = metrics(plane)["ringing_index"]
    assert got == pytest.approx(ref_ringing(plane), rel=1e-12)
    assert got < 0.5 * metrics(step_plane(10.0))["ringing_index"]


def test_ringing_index_is_null_without_an_edge_site() -> None:
    ramp = np.add.outer(np.arange(40.0), np.zeros(40))  # |Dx| = 0: no X site; Y sites tie
    near_border = np.zeros((20, 20))
    near_border[:, 4:] = 1.0  # the only edge lies 4 px from the border: no room for flanks
    assert math.isnan(metrics(ramp)["ringing_index"])
    assert math.isnan(metrics(near_border)["ringing_index"])
    assert math.isnan(metrics(np.full((20, 20), 7.0))["ringing_index"])


@pytest.mark.parametrize("seed", range(3))
def test_ringing_index_is_null_when_no_edge_stands_out_of_the_noise(seed: int) -> None:
    # white noise: the strongest sites' steps are about 0.3 ripple deviations: null; the
    # same noise on a step of 30 deviations is measured (and has no ringing)
    noise = np.random.default_rng(seed).normal(100, 10, (128, 128))
    assert math.isnan(metrics(noise)["ringing_index"])
    noise[:, 64:] += 300.0
    assert 0.0 <= metrics(noise)["ringing_index"] < 0.02


@pytest.mark.parametrize("seed", range(4))
def test_ringing_index_matches_the_pixel_by_pixel_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    plane = np.zeros((34, 38))
    plane[:, 15 + seed :] = 80.0
    plane[8 + seed :, :] += 15.0  # an edge too weak to count (two octaves below)
    plane += rng.normal(0, 1, plane.shape) + 15 * np.sin(np.arange(38) * 2.0 + seed)[None]
    if seed % 2:
        plane[rng.integers(0, 34, 6), rng.integers(0, 38, 6)] = np.nan
    want = ref_ringing(plane)
    assert want > 0
    assert metrics(plane)["ringing_index"] == pytest.approx(want, rel=1e-9)
    assert metrics(plane.astype(np.float32))["ringing_index"] == pytest.approx(
        ref_ringing(plane.astype(np.float32)), rel=1e-9
    )


def test_ringing_index_is_gain_and_offset_invariant() -> None:
    plane = step_plane(7.0)
    base = metrics(plane)["ringing_index"]
    assert metrics(3.5 * plane + 1000.0)["ringing_index"] == pytest.approx(base, rel=1e-12)
    assert metrics(plane.astype(np.uint16))["ringing_index"] == pytest.approx(base, rel=1e-12)
