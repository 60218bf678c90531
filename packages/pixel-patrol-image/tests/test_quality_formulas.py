"""raster-quality formulas on small arrays whose values are worked out by hand.

The Gaussian filters and the Laplacian run in float32 (see ``docs/metrics.md``), so values
from them are compared with the float64 formulas to ``F32_REL``; Michelson contrast and
integer Laplacians are exact.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from image_metrics_testkit import F32_REL, metrics, ref_mscn, ref_mscn_map

# ---------------------------------------------------------------- michelson_contrast


def test_michelson_on_a_ramp_uses_the_1st_and_99th_percentiles() -> None:
    # values 0..99: P1 = 0.99, P99 = 98.01 (linear rule) -> 97.02 / 99.0
    plane = np.arange(100, dtype=np.uint8).reshape(10, 10)
    assert metrics(plane)["michelson_contrast"] == pytest.approx(97.02 / 99.0, rel=1e-12)


def test_michelson_ignores_a_hot_pixel() -> None:
    plane = np.full((20, 20), 100, dtype=np.uint16)
    plane[:10] = 300  # bulk contrast (300 - 100) / (300 + 100) = 0.5
    plane[0, 0] = 65535
    assert metrics(plane)["michelson_contrast"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(np.arange(-99, 1), 97.02 / 99.0, id="all-negative-is-mirrored"),
        pytest.param(np.arange(-50, 50), 1.0, id="crossing-zero-is-full-contrast"),
        pytest.param(np.arange(0, 100) * 0.5 - 1.25, 1.0, id="float-crossing-zero"),
    ],
)
def test_michelson_signed_rule(values: np.ndarray, expected: float) -> None:
    plane = values.astype(np.float64).reshape(10, 10)
    assert metrics(plane)["michelson_contrast"] == pytest.approx(expected, rel=1e-12)


def test_michelson_of_a_sparse_plane_is_zero_not_null() -> None:
    # 3 bright pixels in 400: P1 = P99 = 0, the bulk has no contrast
    plane = np.zeros((20, 20), dtype=np.uint16)
    plane[5, 5:8] = 1000
    assert metrics(plane)["michelson_contrast"] == 0.0


# ---------------------------------------------------------------- laplacian_variance

LAP_PLANE = np.array([[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 0]], dtype=np.float64)
# interior Laplacians: (1,1) = -4, (1,2) = 0+2+1+0-0 = 3, (2,1) = 1+0+0+2 = 3, (2,2) = -8
# mean -1.5, squared deviations 6.25 + 20.25 + 20.25 + 42.25 = 89 -> variance 22.25


def test_laplacian_variance_by_hand() -> None:
    assert metrics(LAP_PLANE)["laplacian_variance"] == pytest.approx(22.25, rel=1e-12)


def test_laplacian_variance_skips_stencils_with_nan() -> None:
    plane = LAP_PLANE.copy()
    plane[0, 1] = np.nan  # only the stencil of (1,1) touches it: values 3, 3, -8 remain
    assert metrics(plane)["laplacian_variance"] == pytest.approx(242.0 / 9.0, rel=1e-12)


def test_laplacian_variance_scales_with_gain_squared() -> None:
    rng = np.random.default_rng(3)
    plane = rng.normal(100, 10, (16, 16))
    v1 = metrics(plane)["laplacian_variance"]
    v3 = metrics(plane * 3 + 1000)["laplacian_variance"]
    assert v3 == pytest.approx(9 * v1, rel=F32_REL)


# ---------------------------------------------------------------- mscn / texture


@pytest.mark.parametrize("seed", [0, 1])
def test_mscn_and_texture_match_the_pixel_by_pixel_formula(seed: int) -> None:
    rng = np.random.default_rng(seed)
    plane = rng.normal(50, 5, (11, 13))
    plane[2:5, 3:9] += 40  # an object, so the local std varies
    plane[0, 0] = np.nan
    plane[6, 7] = np.inf
    mscn, texture = ref_mscn(plane)
    got = metrics(plane)
    assert got["mscn_variance"] == pytest.approx(mscn, rel=F32_REL)
    assert got["texture_heterogeneity"] == pytest.approx(texture, rel=F32_REL)


@pytest.mark.parametrize(
    ("dtype", "holes"),
    [("uint16", False), ("int16", False), ("float32", True), ("float64", False)],
)
def test_mscn_texture_laplacian_on_planes_taller_than_a_strip(dtype: str, holes: bool) -> None:
    # 45 rows span several accumulation strips; 38 columns put the borders of the window
    # weights and of the Laplacian at both ends of every row.
    rng = np.random.default_rng(5)
    plane = rng.normal(300, 20, (45, 38))
    plane[10:30, 5:20] += 150
    plane[::7, ::5] -= 400  # signed values for the signed types
    if np.dtype(dtype).kind == "u":
        plane -= plane.min()
    plane = plane.astype(dtype)
    if holes:
        plane[0, 0] = np.nan
        plane[17, 20:23] = np.inf
        plane[44, 37] = -np.inf
    mscn, texture = ref_mscn(plane)
    got = metrics(plane)
    assert got["mscn_variance"] == pytest.approx(mscn, rel=1e-5)
    assert got["texture_heterogeneity"] == pytest.approx(texture, rel=1e-5)
    assert got["laplacian_variance"] == pytest.approx(ref_laplacian_variance(plane), rel=1e-5)


def ref_laplacian_variance(plane: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian over interior stencils of finite pixels, in float64."""
    x = plane.astype(np.float64)
    with np.errstate(invalid="ignore"):  # inf - inf in stencils that are skipped anyway
        lap = x[:-2, 1:-1] + x[2:, 1:-1] + x[1:-1, :-2] + x[1:-1, 2:] - 4 * x[1:-1, 1:-1]
    return float(np.var(lap[np.isfinite(lap)]))


def test_mscn_of_a_checkerboard_matches_the_closed_form() -> None:
    # For x = ±1 alternating, the 1-D window sum a = Σ w_k (-1)^k gives mu = x a² and
    # sigma² = 1 - a⁴ wherever the 7x7 window is complete; in units of D = 2 every such
    # MSCN coefficient is ±(1 - a²) / 2 / (sqrt(1 - a⁴) / 2 + 1/255).
    w = np.exp(-0.5 * (np.arange(-3, 4) / (7 / 6)) ** 2)
    w /= w.sum()
    a = float(np.sum(w * (-1.0) ** np.arange(-3, 4)))
    closed = (1 - a * a) / 2 / (math.sqrt(1 - a**4) / 2 + 1 / 255)
    n = 16
    plane = np.where((np.add.outer(np.arange(n), np.arange(n)) % 2) == 0, 1.0, -1.0)
    ref = ref_mscn_map(plane)
    for i in range(3, n - 3):
        for j in range(3, n - 3):
            assert abs(ref[i, j][0]) == pytest.approx(closed, rel=1e-12)
    assert metrics(plane)["mscn_variance"] == pytest.approx(ref_mscn(plane)[0], rel=F32_REL)


def test_mscn_and_texture_are_gain_and_offset_invariant() -> None:
    rng = np.random.default_rng(7)
    plane = ndi_scene(rng)
    a, b = metrics(plane), metrics(plane * 40.0 + 12345.0)
    assert b["mscn_variance"] == pytest.approx(a["mscn_variance"], rel=F32_REL)
    assert b["texture_heterogeneity"] == pytest.approx(a["texture_heterogeneity"], rel=F32_REL)


def ndi_scene(rng: np.random.Generator) -> np.ndarray:
    """A 32x32 float plane with texture on one half only."""
    plane = np.full((32, 32), 10.0)
    plane[:, :16] += rng.normal(0, 1, (32, 16))
    return plane


def test_texture_heterogeneity_separates_uniform_from_patchy_texture() -> None:
    rng = np.random.default_rng(11)
    uniform = rng.normal(0, 1, (64, 64))
    patchy = uniform.copy()
    patchy[:, 32:] *= 0.05
    t_uniform = metrics(uniform)["texture_heterogeneity"]
    t_patchy = metrics(patchy)["texture_heterogeneity"]
    assert 0.1 < t_uniform < 0.3  # sampling scatter of a ~17-pixel effective window
    assert t_patchy > 3 * t_uniform
