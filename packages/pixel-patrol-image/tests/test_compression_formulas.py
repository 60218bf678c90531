"""raster-compression formulas on small arrays whose values are worked out by hand.

Blocking steps of these small-integer planes are exact in float32; the ringing energies are
compared with the float64 formulas to ``F32_REL``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from image_metrics_testkit import F32_REL, metrics

from pixel_patrol_image._ringing import (
    RINGING_EPS,
    edge_transitions,
    oscillation_energy,
)
from pixel_patrol_image._robust import prepare
from pixel_patrol_image._workspace import Workspace

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


def step_plane(ripple: float = 0.0) -> np.ndarray:
    """40x40 step from 0 to 1 between columns 19 and 20; optional ripple on column 15."""
    plane = np.zeros((40, 40))
    plane[:, 20:] = 1.0
    plane[:, 15] = ripple
    return plane


def test_edge_transition_of_a_step_by_hand() -> None:
    # Gaussian(1)-smoothed step: |gradient| 0.320 at columns 19/20, 0.148 at 18/21 (strong,
    # >= 0.1), 0.029 at 17/22 (>= 0.1 / 8, transition), 0.002 at 16/23 (flat)
    fp = prepare(step_plane(0.01)[None], False, Workspace())
    transition = edge_transitions(fp, Workspace())[0]
    assert transition.all(axis=0).tolist() == [17 <= c <= 22 for c in range(40)]
    assert not transition[:, :17].any() and not transition[:, 23:].any()


def test_ringing_index_of_a_clean_step_is_one() -> None:
    assert metrics(step_plane())["ringing_index"] == pytest.approx(1.0, abs=1e-12)


def test_oscillation_energy_is_zero_on_monotone_profiles_and_counts_crests() -> None:
    row = np.array([0.0, 0.1, 0.5, 0.9, 1.0, 1.3, 1.0, 1.2])  # crest 1.3, trough 1.0
    fp = prepare(np.repeat(row[None, None], 3, axis=1), False, Workspace())
    energy = oscillation_energy(fp, Workspace())[0, 1] / fp.unit[0] ** 2
    # 1.3 stands 0.3 above 1.0 and 0.3 above 1.0; 1.0 lies 0.2 below 1.2 and 0.3 below 1.3;
    # the three equal rows add nothing along Y (the outermost pixels are never used)
    assert energy[1:-1].tolist() == pytest.approx([0, 0, 0, 0, 0.09, 0.04], rel=F32_REL)


def test_ringing_index_of_a_ripple_in_the_band_by_hand() -> None:
    # band = columns 13..16 and 23..26. A ripple column of height a on flat 0 is a crest of
    # excess a along X (nothing along Y; its neighbours 14 and 16 are monotone runs), so the
    # band's mean energy is a² / 8; far from the edge (columns <= 8, >= 31) it is 0
    a = 0.01
    expected = (a * a / 8 + RINGING_EPS) / RINGING_EPS
    assert metrics(step_plane(a))["ringing_index"] == pytest.approx(expected, rel=F32_REL)


def test_ringing_index_is_null_without_a_strong_edge() -> None:
    ramp = np.add.outer(np.arange(40.0), np.arange(40.0))  # gradient 1/78 of D per pixel
    noise = np.random.default_rng(0).normal(0, 1, (64, 64))
    assert math.isnan(metrics(ramp)["ringing_index"])
    assert math.isnan(metrics(noise)["ringing_index"])
