"""raster-quality reacts to real image effects the way its names promise."""

from __future__ import annotations

import numpy as np
import pytest
from image_metrics_testkit import jpeg, metrics, natural, scene
from scipy import ndimage as ndi

SEEDS = [0, 1, 2]


@pytest.mark.parametrize("seed", SEEDS)
def test_gaussian_blur_lowers_laplacian_variance(seed: int) -> None:
    img = scene(seed).astype(np.float64)
    sharp = metrics(img)["laplacian_variance"]
    soft = metrics(ndi.gaussian_filter(img, 1.0))["laplacian_variance"]
    softer = metrics(ndi.gaussian_filter(img, 2.0))["laplacian_variance"]
    assert sharp > 5 * soft > 5 * softer > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_contrast_stretch_raises_michelson_but_gain_alone_does_not(seed: int) -> None:
    img = scene(seed).astype(np.float64)  # values 20..235
    base = metrics(img)["michelson_contrast"]
    stretched = metrics((img - 20.0) * 1.2)["michelson_contrast"]
    assert stretched > base + 0.05
    assert metrics(img * 7.0)["michelson_contrast"] == pytest.approx(base, rel=1e-12)
    assert metrics(img / 4.0 + 200.0)["michelson_contrast"] < base / 2  # compressed contrast


@pytest.mark.parametrize("seed", SEEDS)
def test_mscn_variance_rises_with_noise_and_falls_with_blur(seed: int) -> None:
    img = scene(seed).astype(np.float64)
    noisy = img + np.random.default_rng(seed).normal(0, 8, img.shape)
    base = metrics(img)["mscn_variance"]
    assert metrics(noisy)["mscn_variance"] > 1.5 * base
    assert metrics(ndi.gaussian_filter(img, 1.5))["mscn_variance"] < base / 2


@pytest.mark.parametrize("seed", SEEDS)
def test_texture_heterogeneity_drops_when_noise_dominates(seed: int) -> None:
    # a scene is patchy (edges here, flat there); strong noise makes texture uniform
    img = scene(seed).astype(np.float64)
    noisy = img + np.random.default_rng(seed).normal(0, 20, img.shape)
    assert metrics(img)["texture_heterogeneity"] > 1.3 * metrics(noisy)["texture_heterogeneity"]


def test_jpeg_keeps_quality_metrics_defined() -> None:
    out = metrics(jpeg(scene(0), 10))
    assert all(np.isfinite(out[k]) for k in ("michelson_contrast", "mscn_variance"))


@pytest.mark.parametrize("name", ["camera", "astronaut"])
def test_blur_lowers_sharpness_and_noise_raises_it_on_natural_images(name: str) -> None:
    img = natural(name).astype(np.float64)
    blurred = [metrics(ndi.gaussian_filter(img, s) if s else img) for s in (0, 1, 2, 4)]
    for key in ("laplacian_variance", "mscn_variance"):
        values = [m[key] for m in blurred]
        assert values == sorted(values, reverse=True) and len(set(values)) == 4, key
    noisy = metrics(img + np.random.default_rng(0).normal(0, 5, img.shape))
    assert noisy["mscn_variance"] > 1.3 * blurred[0]["mscn_variance"]
    assert noisy["laplacian_variance"] > 1.2 * blurred[0]["laplacian_variance"]


@pytest.mark.parametrize("name", ["camera", "astronaut"])
def test_a_linear_stretch_moves_only_the_scale_dependent_metrics(name: str) -> None:
    img = natural(name).astype(np.float64)
    lo, hi = np.percentile(img, [1, 99])
    base, stretched = metrics(img), metrics((img - lo) * (255.0 / (hi - lo)))
    assert stretched["michelson_contrast"] >= base["michelson_contrast"]
    gain2 = (255.0 / (hi - lo)) ** 2
    assert stretched["laplacian_variance"] == pytest.approx(gain2 * base["laplacian_variance"], rel=1e-6)
    for key in ("mscn_variance", "texture_heterogeneity", "blocking_index"):
        assert stretched[key] == pytest.approx(base[key], rel=1e-3), key
