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

import itertools

import numpy as np

_N = 32
_K = 8


def _dct_rows() -> np.ndarray:
    n = np.arange(_N)
    k = np.arange(_K)[:, None]
    return np.cos(np.pi * (2 * n + 1) * k / (2 * _N))


_D = _dct_rows()
_POOL = np.repeat(np.eye(_N), 2, axis=1)
"""(32, 64): sums pairs of thumbnail pixels (the 2×2 block average up to a constant)."""
_M = (_D @ _POOL).astype(np.float32)
"""(8, 64): pooling to 32×32 and the 8 lowest DCT-II frequencies in one matrix."""
_RGB3 = np.zeros((64, 4, _K), dtype=np.float32)
_RGB3[:, :3, :] = _M.T[:, None, :]
_RGB = _RGB3.reshape(256, _K)
"""(256, 8): one thumbnail row (64 RGBA pixels) → 8 frequencies of its grey (R + G + B)."""
_FLAT = 1e-3
"""AC energy (relative to the full grey range) below which a thumbnail counts as flat."""
_BATCH = 1024


def perceptual_hashes(thumbs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """64-bit DCT hashes of ``(k, 64, 64, 4)`` RGBA thumbnails and whether each is meaningful.

    Grey (R + G + B), the 2×2 pooling and the separable DCT are one linear map, applied as two
    small matrix products per batch; thumbnails with a transparent margin (non-square images)
    get the margin filled with their mean grey first.
    """
    k = len(thumbs)
    hashes, ok = np.zeros(k, dtype=np.uint64), np.zeros(k, dtype=bool)
    for start in range(0, k, _BATCH):
        part = thumbs[start : start + _BATCH]
        hashes[start : start + len(part)], ok[start : start + len(part)] = _hash_batch(part)
    return hashes, ok


def _hash_batch(thumbs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = len(thumbs)
    alpha_min = thumbs[..., 3].min(axis=(1, 2))
    data = thumbs.astype(np.float32)
    padded = np.flatnonzero(alpha_min == 0)
    if len(padded):
        data[padded] = _fill_margin(data[padded])
    per_row = (data.reshape(k * 64, 256) @ _RGB).reshape(k, 64, _K).transpose(0, 2, 1)
    coeffs = (per_row.reshape(k * _K, 64) @ _M.T).reshape(k, _K * _K)
    ac = coeffs[:, 1:]
    med = np.partition(ac, 31, axis=1)[:, 31]  # the median of 63 values
    bits = (ac > med[:, None]).astype(np.uint64)
    hashes = (bits << np.arange(1, 64, dtype=np.uint64)).sum(axis=1, dtype=np.uint64)
    energy = np.sqrt((ac.astype(np.float64) ** 2).mean(axis=1)) / (_N * 4 * 3 * 255.0)
    visible = thumbs[..., 3].max(axis=(1, 2)) > 0
    return hashes, (energy > _FLAT) & visible


def _fill_margin(data: np.ndarray) -> np.ndarray:
    """RGBA floats with transparent pixels set to the mean colour of the visible ones."""
    alpha = data[..., 3:4] > 0
    count = np.maximum(alpha.sum(axis=(1, 2)), 1)
    mean = (data * alpha).sum(axis=(1, 2)) / count
    return np.where(alpha, data, mean[:, None, None, :])


def popcount(x: np.ndarray) -> np.ndarray:
    """Number of set bits of each uint64."""
    if hasattr(np, "bitwise_count"):
        result: np.ndarray = np.bitwise_count(x).astype(np.int64)
        return result
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)
    result = table[x.astype(np.uint64).view(np.uint8).reshape(-1, 8)].sum(axis=1)
    return result


def near_pairs(hashes: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs ``i < j`` of distinct hash values within ``max_distance`` bits, and distances.

    Callers pass unique hash values (equal hashes are grouped before), so block collisions stay
    few and the work grows with the number of hashes, not its square.
    """
    n = len(hashes)
    blocks = max_distance + 1
    edges = np.linspace(0, 64, blocks + 1).astype(int)
    found_i, found_j = [], []
    for a, b in itertools.pairwise(edges):
        key = (hashes >> np.uint64(a)) & np.uint64((1 << (b - a)) - 1)
        i, j = _same_key_pairs(key)
        close = popcount(hashes[i] ^ hashes[j]) <= max_distance
        found_i.append(i[close])
        found_j.append(j[close])
    i = np.concatenate(found_i) if found_i else np.zeros(0, dtype=np.int64)
    j = np.concatenate(found_j) if found_j else np.zeros(0, dtype=np.int64)
    close = popcount(hashes[i] ^ hashes[j]) <= max_distance  # most candidates are far apart
    pairs = np.unique(np.minimum(i[close], j[close]) * n + np.maximum(i[close], j[close]))
    i, j = pairs // n, pairs % n
    return i, j, popcount(hashes[i] ^ hashes[j])


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
