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

BASELINE = 0.02
"""ringing_index of data without ringing: 0, or a little above it where objects crowd within
a few pixels of each other's edges."""


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
def test_ringing_rises_as_jpeg_quality_falls_on_photon_limited_images(seed: int) -> None:
    img = photon_disks(seed)
    assert ringing(img) <= BASELINE
    q95, q50, q10 = (ringing(jpeg(img, q)) for q in (95, 50, 10))
    assert q95 < q50 < q10
    assert q10 > 0.04


def test_ringing_rises_as_jpeg_quality_falls_on_fluorescence_images() -> None:
    # blurred discs with camera noise: per image, q10 ties with q50 at worst (seed 1: the
    # quality-10 blocks flatten part of the halo), over the set the order is strict
    values = np.array([[ringing(jpeg(cells(s, 192), q)) for q in (95, 50, 10)] for s in SEEDS])
    assert np.all(values[:, 0] < values[:, 1]) and np.all(values[:, 2] > 0.95 * values[:, 1])
    q95, q50, q10 = values.mean(axis=0)
    assert q95 < q50 < q10


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
    assert np.isnan(ringing(noise))  # no edge stands out of the noise: null


@pytest.mark.parametrize("seed", SEEDS)
def test_truncating_the_spectrum_rings_and_a_smooth_band_limit_does_not(seed: int) -> None:
    img = sharp_cells(seed)
    noise = np.random.default_rng(seed).normal(0, 2, img.shape)
    for fraction in (0.75, 0.5):
        truncated = ringing(gibbs(img, fraction) + noise)
        smooth = ringing(band_limit(img, fraction) + noise)
        assert smooth < 0.02  # the band limit alone: blur
        assert truncated > max(0.05, 4 * smooth)
    photons = np.random.default_rng(seed).poisson(np.clip(gibbs(img, 0.5), 0, None))
    assert ringing(photons) > 0.03  # ringing survives photon noise


@pytest.mark.parametrize("name", NATURAL)
def test_truncating_the_spectrum_of_natural_images_rings(name: str) -> None:
    img = natural(name).astype(np.float64)
    assert ringing(gibbs(img, 0.5)) > 5 * ringing(band_limit(img, 0.5))


def test_strong_deconvolution_rings_and_noise_does_not() -> None:
    rng = np.random.default_rng(5)
    objects = np.full((128, 128), 50.0)
    objects[:, 61:] = 150.0
    objects[37:90, 19:43] = 200.0
    blurred = ndi.gaussian_filter(objects, 2.0, mode="nearest") + rng.normal(0, 1, objects.shape)
    plain = ringing(blurred)
    noisy = ringing(blurred + rng.normal(0, 4, objects.shape))
    assert plain <= BASELINE and noisy <= BASELINE
    assert ringing(deconvolve(blurred, 2.0, lam=0.001)) > 0.1


@pytest.mark.parametrize("kind", ["camera", "astronaut", "photons"])
def test_blocking_rises_as_jpeg_quality_falls(kind: str) -> None:
    img = photon_disks(0) if kind == "photons" else natural(kind)
    values = [metrics(jpeg(img, q))["blocking_index"] for q in (95, 50, 10)]
    assert values[0] < values[1] < values[2]
    assert 0.9 < metrics(img)["blocking_index"] < 1.1
