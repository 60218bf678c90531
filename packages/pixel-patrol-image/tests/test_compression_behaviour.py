"""raster-compression reacts to codecs and sharpening, and not to noise or blur."""

from __future__ import annotations

import numpy as np
import pytest
from image_metrics_testkit import cells, deconvolve, jpeg, metrics, scene
from scipy import ndimage as ndi

SEEDS = [0, 1, 2]


@pytest.mark.parametrize("seed", SEEDS)
def test_blocking_index_separates_jpeg_qualities(seed: int) -> None:
    img = scene(seed)
    raw = metrics(img)["blocking_index"]
    q95 = metrics(jpeg(img, 95))["blocking_index"]
    q10 = metrics(jpeg(img, 10))["blocking_index"]
    assert 0.85 < raw < 1.1
    assert 0.9 < q95 < 1.15
    assert q10 > 2.5
    assert q10 > 2 * q95 and q10 > 2 * raw


@pytest.mark.parametrize("seed", SEEDS)
def test_shifting_by_half_a_block_breaks_the_grid(seed: int) -> None:
    q10 = jpeg(scene(seed), 10)
    aligned = metrics(q10)["blocking_index"]
    shifted = metrics(q10[4:, 4:])["blocking_index"]
    assert shifted < 1.15
    assert shifted < 0.4 * aligned


@pytest.mark.parametrize("seed", SEEDS)
def test_noise_alone_does_not_raise_ringing(seed: int) -> None:
    img = cells(seed).astype(np.float64)
    rng = np.random.default_rng(seed)
    raw = metrics(img)["ringing_index"]
    noisy = metrics(img + rng.normal(0, 6, img.shape))["ringing_index"]
    very_noisy = metrics(img + rng.normal(0, 15, img.shape))["ringing_index"]
    for value in (raw, noisy, very_noisy):
        assert 0.8 < value < 1.25


@pytest.mark.parametrize("seed", SEEDS)
def test_compression_raises_ringing_well_above_noise(seed: int) -> None:
    img = cells(seed)
    noisy = metrics(img + np.random.default_rng(seed).normal(0, 6, img.shape))["ringing_index"]
    compressed = metrics(jpeg(img, 10))["ringing_index"]
    assert compressed > 4.0
    assert compressed > 3 * noisy


def test_sharpening_by_deconvolution_rings_and_noise_does_not() -> None:
    rng = np.random.default_rng(5)
    objects = np.full((128, 128), 50.0)
    objects[:, 61:] = 150.0
    objects[37:90, 19:43] = 200.0
    blurred = ndi.gaussian_filter(objects, 2.0, mode="nearest") + rng.normal(0, 1, objects.shape)
    plain = metrics(blurred)["ringing_index"]
    noisy = metrics(blurred + rng.normal(0, 4, objects.shape))["ringing_index"]
    sharpened = metrics(deconvolve(blurred, 2.0))["ringing_index"]
    assert plain == pytest.approx(1.0, abs=0.1)
    assert noisy == pytest.approx(1.0, abs=0.1)
    assert sharpened > 10 * max(plain, noisy)


@pytest.mark.parametrize("seed", SEEDS)
def test_blur_does_not_read_as_ringing(seed: int) -> None:
    img = scene(seed).astype(np.float64)
    blurred = metrics(ndi.gaussian_filter(img, 1.5))["ringing_index"]
    assert 0.8 < blurred < 1.3
