"""Perceptual hashes and the near-pair search."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pixel_patrol_base.findings.phash import near_pairs, perceptual_hashes, popcount


def _thumb(grey: np.ndarray) -> np.ndarray:
    rgba = np.zeros((1, 64, 64, 4), dtype=np.uint8)
    rgba[0, ..., :3] = grey[..., None]
    rgba[0, ..., 3] = 255
    return rgba


def test_linear_contrast_keeps_the_hash_and_flat_images_get_none() -> None:
    rng = np.random.default_rng(1)
    field = np.kron(rng.random((8, 8)), np.ones((8, 8))) * 200
    a = perceptual_hashes(_thumb(field.astype(np.uint8)))
    b = perceptual_hashes(_thumb((field * 0.5 + 40).astype(np.uint8)))
    other = perceptual_hashes(_thumb((np.kron(rng.random((8, 8)), np.ones((8, 8))) * 200).astype(np.uint8)))
    assert a[1][0] and popcount(a[0] ^ b[0])[0] <= 2 and popcount(a[0] ^ other[0])[0] > 10
    flat = perceptual_hashes(_thumb(np.full((64, 64), 77, dtype=np.uint8)))
    assert not flat[1][0]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 6), st.integers(2, 200))
def test_near_pairs_equal_brute_force(seed: int, limit: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2**63, n // 3 + 1, dtype=np.uint64)
    flips = rng.integers(0, 64, (n, 3))
    h = base[rng.integers(0, len(base), n)]
    for k in range(3):
        mask = rng.random(n) < 0.5
        h = np.where(mask, h ^ (np.uint64(1) << flips[:, k].astype(np.uint64)), h)
    h = np.unique(h)
    i, j, d = near_pairs(h, limit)
    got = {(int(a), int(b), int(c)) for a, b, c in zip(i, j, d, strict=True)}
    want = set()
    for a, b in itertools.combinations(range(len(h)), 2):
        dist = bin(int(h[a]) ^ int(h[b])).count("1")
        if dist <= limit:
            want.add((a, b, dist))
    assert got == want
