"""The float32 arithmetic of the filter metrics against the same formulas in float64.

docs/metrics.md states how far the per-pixel float32 work may move ``mscn_variance`` and
``texture_heterogeneity`` from the float64 formula (up to about 2e-3 relative in the worst case,
flat regions with sub-level noise far from the median; a few 1e-5 on typical scenes) and that
``laplacian_variance`` is exact for 8/16-bit data. The loss comes
from the local variance ``G*x² - (G*x)²`` where a window sits far from the plane median with
little local contrast (flat bright or dark regions): it is a property of float32 local
moments, not of the sums, which are float64 per strip.
"""

from __future__ import annotations

import numpy as np
import pytest
from image_metrics_testkit import cells, metrics, scene
from scipy import ndimage as ndi

TAPS = np.exp(-0.5 * (np.arange(-3, 4) / (7 / 6)) ** 2)
TAPS /= TAPS.sum()


def float64_formulas(img: np.ndarray) -> dict[str, float]:
    """The documented formulas in float64: truncated, renormalised window; C = D / 255."""
    x = img.astype(np.float64)
    lo, hi = np.percentile(x, [1, 99])
    d = hi - lo if hi > lo else x.max() - x.min()

    def window(a: np.ndarray) -> np.ndarray:
        return ndi.correlate1d(ndi.correlate1d(a, TAPS, 0, mode="constant"), TAPS, 1, mode="constant")

    z = (x - np.median(x)) / d
    weight = window(np.ones_like(z))
    mu = window(z) / weight
    sigma = np.sqrt(np.maximum(window(z * z) / weight - mu * mu, 0.0))
    coeff = (z - mu) / (sigma + 1 / 255)
    lap = x[:-2, 1:-1] + x[2:, 1:-1] + x[1:-1, :-2] + x[1:-1, 2:] - 4 * x[1:-1, 1:-1]
    return {
        "mscn_variance": float(coeff.var()),
        "texture_heterogeneity": float(sigma.std() / sigma.mean()),
        "laplacian_variance": float(lap.var()),
    }


def flat_sky(n: int = 160) -> np.ndarray:
    """Large flat regions far from the median with one grey level of noise (the worst case)."""
    rng = np.random.default_rng(3)
    img = np.full((n, n), 40.0)
    img[: n // 3] = 210.0
    img[n // 2 :, n // 4 : 3 * n // 4] = 120.0
    return np.clip(np.round(img + rng.normal(0, 0.6, img.shape)), 0, 255).astype(np.uint8)


CASES = {
    "scene": scene(0, 192),
    "cells": cells(0),
    "sky": flat_sky(),
    "uint16-offset": (scene(2, 160).astype(np.uint16) * 40 + 30000),
}


@pytest.mark.parametrize("name", CASES)
def test_float32_metrics_stay_within_the_documented_accuracy(name: str) -> None:
    img = CASES[name]
    got, want = metrics(img), float64_formulas(img)
    bound = 2e-3 if name == "sky" else 1e-4
    for key in ("mscn_variance", "texture_heterogeneity"):
        assert abs(got[key] / want[key] - 1) < bound, (key, got[key], want[key])
    assert got["laplacian_variance"] == pytest.approx(want["laplacian_variance"], rel=1e-12)


def test_the_same_values_in_float32_and_float64_give_the_same_metrics() -> None:
    """A float32 image and its exact float64 copy are the same data: bit-identical metrics."""
    f32 = (scene(4, 128).astype(np.float32) * np.float32(0.01) + np.float32(1e4))
    a, b = metrics(f32), metrics(f32.astype(np.float64))
    assert a == b
