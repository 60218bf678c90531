"""How ``mscn_variance`` relates to BRISQUE's first-scale feature, quantified.

BRISQUE's reference implementation (Mittal, Moorthy, Bovik 2012; its MATLAB code) computes,
on the 0..255 grey levels ``x``: ``mu = filter2(w, x, 'same')`` (zero padding, no
renormalisation), ``sigma = sqrt(|filter2(w, x²) - mu²|)``, ``c = (x - mu) / (sigma + 1)``, and
as its feature the mean of ``c²`` (the ``sigma²`` of its generalised Gaussian fit). Ours differs
in three named ways; each is switched on one at a time below, and the documented effects are
asserted on test scenes (see docs/metrics.md, ``mscn_variance``).
"""

from __future__ import annotations

import numpy as np
import pytest
from image_metrics_testkit import cells, metrics, scene
from scipy import ndimage as ndi

TAPS = np.exp(-0.5 * (np.arange(-3, 4) / (7 / 6)) ** 2)
TAPS /= TAPS.sum()


def _window(a: np.ndarray) -> np.ndarray:
    return ndi.correlate1d(ndi.correlate1d(a, TAPS, 0, mode="constant"), TAPS, 1, mode="constant")


def _robust_range(x: np.ndarray) -> float:
    lo, hi = np.percentile(x, [1, 99])
    return float(hi - lo) if hi > lo else float(x.max() - x.min())


def mscn_feature(img: np.ndarray, *, renormalise: bool, c_from_range: bool, centred: bool) -> float:
    """BRISQUE's feature (all False) or ours (all True), in float64."""
    x = img.astype(np.float64)
    c = _robust_range(x) / 255.0 if c_from_range else 1.0
    weight = _window(np.ones_like(x)) if renormalise else 1.0
    mu = _window(x) / weight
    sigma = np.sqrt(np.abs(_window(x * x) / weight - mu * mu))
    coeff = (x - mu) / (sigma + c)
    return float(coeff.var() if centred else np.mean(coeff * coeff))


def brisque(img: np.ndarray) -> float:
    return mscn_feature(img, renormalise=False, c_from_range=False, centred=False)


SCENES = {"scene": scene(0, 192), "cells": cells(0)}


@pytest.mark.parametrize("name", SCENES)
def test_ours_is_the_float64_formula_with_the_three_differences(name: str) -> None:
    img = SCENES[name]
    want = mscn_feature(img, renormalise=True, c_from_range=True, centred=True)
    assert metrics(img)["mscn_variance"] == pytest.approx(want, rel=1e-3)


def test_with_a_full_robust_range_only_the_border_and_the_centring_remain() -> None:
    """P1 = 0 and P99 = 255 make C = D / 255 equal BRISQUE's C = 1."""
    img = scene(1, 192).astype(np.int16) * 2 - 60
    img[:4] = 0
    img[-4:] = 255
    img = np.clip(img, 0, 255).astype(np.uint8)
    assert _robust_range(img.astype(np.float64)) == 255.0
    c_same = mscn_feature(img, renormalise=False, c_from_range=True, centred=False)
    assert c_same == pytest.approx(brisque(img), rel=1e-12)
    ours = metrics(img)["mscn_variance"]
    assert abs(ours / brisque(img) - 1) < 0.02  # the border frame: -1.2 % here


@pytest.mark.parametrize(
    ("name", "c_effect", "border_effect"),
    [("scene", (0.10, 0.16), (0.0, 0.01)), ("cells", (0.12, 0.20), (0.01, 0.05))],
)
def test_documented_size_of_each_difference(
    name: str, c_effect: tuple[float, float], border_effect: tuple[float, float]
) -> None:
    img = SCENES[name]
    b = brisque(img)
    with_c = mscn_feature(img, renormalise=False, c_from_range=True, centred=False)
    with_border = mscn_feature(img, renormalise=True, c_from_range=True, centred=False)
    ours64 = mscn_feature(img, renormalise=True, c_from_range=True, centred=True)
    assert c_effect[0] < with_c / b - 1 < c_effect[1]  # C = D/255 < 1 raises every coefficient
    assert border_effect[0] <= with_border / with_c - 1 < border_effect[1]
    assert abs(ours64 / with_border - 1) < 2e-4  # variance vs mean square: mean(c)² is tiny
    assert metrics(img)["mscn_variance"] / b - 1 == pytest.approx(ours64 / b - 1, abs=1e-3)
