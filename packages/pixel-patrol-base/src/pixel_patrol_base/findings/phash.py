"""Perceptual hashes of thumbnails and the search for pairs within a Hamming distance.

The hash is the DCT hash (Zauner 2010): grey levels of the 64×64 thumbnail, averaged to 32×32,
go through a 2-D DCT-II; of its 8×8 lowest frequencies, each of the 63 non-constant
coefficients gives one bit (above their median or not), bit 0 stays 0. Offsets only change the
constant term and a linear contrast change scales every coefficient, so both leave the hash
unchanged; a small shift or a gamma change moves few bits. Thumbnails without structure (their
low-frequency coefficients all near 0: blank or flat images) get no hash: their bits would be
noise and every pair of them would look alike.

Pairs within distance ``d`` are found without comparing all pairs: cut the 64 bits into
``d + 1`` blocks; two hashes within ``d`` agree exactly on at least one block (pigeonhole), so
only hashes sharing a block value are compared.
"""

from __future__ import annotations

import numpy as np

_N = 32
_K = 8


def _dct_rows() -> np.ndarray:
    n = np.arange(_N)
    k = np.arange(_K)[:, None]
    return np.cos(np.pi * (2 * n + 1) * k / (2 * _N))


_D = _dct_rows()
_FLAT = 1e-3
"""AC energy (relative to 255²) below which a thumbnail counts as flat."""


def perceptual_hashes(thumbs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """64-bit DCT hashes of ``(k, 64, 64, 4)`` RGBA thumbnails and whether each is meaningful."""
    if len(thumbs) == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=bool)
    rgb = thumbs[..., :3].astype(np.float32).mean(axis=-1)
    alpha = thumbs[..., 3] > 0
    counts = np.maximum(alpha.sum(axis=(1, 2)), 1)
    fill = (rgb * alpha).sum(axis=(1, 2)) / counts
    grey = np.where(alpha, rgb, fill[:, None, None])
    small = grey.reshape(-1, _N, 2, _N, 2).mean(axis=(2, 4))
    coeffs = np.einsum("kn,bnm,lm->bkl", _D, small, _D).reshape(len(thumbs), _K * _K)
    ac = coeffs[:, 1:]
    med = np.median(ac, axis=1)
    bits = ac > med[:, None]
    weights = np.left_shift(np.uint64(1), np.arange(1, 64, dtype=np.uint64))
    hashes = np.bitwise_or.reduce(np.where(bits, weights, np.uint64(0)), axis=1)
    energy = np.sqrt((ac * ac).mean(axis=1)) / (_N * 255.0)
    return hashes.astype(np.uint64), (energy > _FLAT) & alpha.any(axis=(1, 2))


def popcount(x: np.ndarray) -> np.ndarray:
    """Number of set bits of each uint64."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.int64)
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)
    return table[x.astype(np.uint64).view(np.uint8).reshape(-1, 8)].sum(axis=1)


def near_pairs(hashes: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs ``i < j`` of distinct hash values within ``max_distance`` bits, and distances.

    Callers pass unique hash values (equal hashes are grouped before), so block collisions stay
    few and the work grows with the number of hashes, not its square.
    """
    n = len(hashes)
    blocks = max_distance + 1
    edges = np.linspace(0, 64, blocks + 1).astype(int)
    found_i, found_j = [], []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        key = (hashes >> np.uint64(a)) & np.uint64((1 << (b - a)) - 1)
        i, j = _same_key_pairs(key)
        found_i.append(i)
        found_j.append(j)
    i = np.concatenate(found_i) if found_i else np.zeros(0, dtype=np.int64)
    j = np.concatenate(found_j) if found_j else np.zeros(0, dtype=np.int64)
    if not len(i):
        return i, j, np.zeros(0, dtype=np.int64)
    pairs = np.unique(np.minimum(i, j) * n + np.maximum(i, j))
    i, j = pairs // n, pairs % n
    d = popcount(hashes[i] ^ hashes[j])
    keep = d <= max_distance
    return i[keep], j[keep], d[keep]


def _same_key_pairs(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All index pairs within runs of equal ``key``, without a loop over the runs.

    After sorting, position ``p`` pairs with every later position of its run: ``after[p]``
    partners at offsets 1 … after[p].
    """
    order = np.argsort(key, kind="stable")
    k = key[order]
    new_run = np.r_[True, k[1:] != k[:-1]]
    starts = np.flatnonzero(new_run)
    run_end = np.r_[starts[1:], len(k)][np.cumsum(new_run) - 1]
    after = run_end - np.arange(len(k)) - 1
    total = int(after.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    first = np.repeat(np.arange(len(k)), after)
    offsets = np.arange(total) - np.repeat(np.cumsum(after) - after, after) + 1
    return order[first].astype(np.int64), order[first + offsets].astype(np.int64)
