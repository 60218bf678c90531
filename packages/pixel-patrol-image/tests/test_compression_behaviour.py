"""raster-compression reacts to codecs, band limiting and sharpening, not to noise or blur.

Natural images come from scikit-image's bundled test data; microscopy-like ones are made here
(discs on a dark background, with optical blur and camera noise, or photon-limited). The
checks are properties (ordering, a baseline), not recorded numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
from image_metrics_testkit import (
    band_limit,
    cells,
    deconvolve,
    gibbs,
    jpeg,
    metrics,
    natural,
    photon_disks,
    scene,
    sharp_cells,
)
from scipy import ndimage as ndi

SEEDS = [0, 1, 2]
NATURAL = ["camera", "astronaut", "coins"]

BASELINE = 0.01
"""ringing_index of data without ringing: 0, or a little above it by chance."""


def ringing(img: np.ndarray) -> float:
    return metrics(np.asarray(img))["ringing_index"]


def test_blocking_index_separates_jpeg_qualities() -> None:
    for seed in SEEDS:
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


@pytest.mark.parametrize("name", NATURAL)
def test_ringing_rises_as_jpeg_quality_falls_on_natural_images(name: str) -> None:
    img = natural(name)
    q95, q50, q10 = (ringing(jpeg(img, q)) for q in (95, 50, 10))
    assert q95 < q50 < q10
    assert q10 > 1.2 * ringing(img)


@pytest.mark.parametrize("seed", SEEDS)
def test_ringing_rises_as_jpeg_quality_falls_on_microscopy_images(seed: int) -> None:
    for img in (cells(seed, 192), np.clip(photon_disks(seed), 0, 255)):
        raw, q95, q50, q10 = (ringing(jpeg(img, q)) for q in (100, 95, 50, 10))
        assert raw <= BASELINE
        assert q95 < q50 < q10
        assert q10 > 0.015


@pytest.mark.parametrize("name", NATURAL)
def test_blur_never_reads_as_ringing(name: str) -> None:
    img = natural(name).astype(np.float64)
    base = ringing(img)
    for sigma in (1, 2, 4):
        assert ringing(ndi.gaussian_filter(img, sigma)) < max(0.5 * base, BASELINE)


@pytest.mark.parametrize("seed", SEEDS)
def test_clean_and_photon_limited_images_sit_at_the_baseline(seed: int) -> None:
    for img in (cells(seed), photon_disks(seed), ndi.gaussian_filter(sharp_cells(seed), 1.5)):
        assert ringing(img) <= BASELINE
    noise = np.random.default_rng(seed).normal(100, 10, (192, 192))
    assert ringing(noise) <= BASELINE


@pytest.mark.parametrize("seed", SEEDS)
def test_truncating_the_spectrum_rings_and_a_smooth_band_limit_does_not(seed: int) -> None:
    img = sharp_cells(seed)
    noise = np.random.default_rng(seed).normal(0, 2, img.shape)
    for fraction in (0.75, 0.5):
        truncated = ringing(gibbs(img, fraction) + noise)
        smooth = ringing(band_limit(img, fraction) + noise)
        assert smooth <= BASELINE
        assert truncated > 0.03
    photons = np.random.default_rng(seed).poisson(np.clip(gibbs(img, 0.5), 0, None))
    assert ringing(photons) > 0.03  # ringing survives photon noise


@pytest.mark.parametrize("name", NATURAL)
def test_truncating_the_spectrum_of_natural_images_rings(name: str) -> None:
    img = natural(name).astype(np.float64)
    assert ringing(gibbs(img, 0.5)) > 5 * ringing(band_limit(img, 0.5))


def test_sharpening_by_deconvolution_rings_and_noise_does_not() -> None:
    rng = np.random.default_rng(5)
    objects = np.full((128, 128), 50.0)
    objects[:, 61:] = 150.0
    objects[37:90, 19:43] = 200.0
    blurred = ndi.gaussian_filter(objects, 2.0, mode="nearest") + rng.normal(0, 1, objects.shape)
    plain = ringing(blurred)
    noisy = ringing(blurred + rng.normal(0, 4, objects.shape))
    assert plain <= BASELINE and noisy <= BASELINE
    assert ringing(deconvolve(blurred, 2.0)) > 0.05
