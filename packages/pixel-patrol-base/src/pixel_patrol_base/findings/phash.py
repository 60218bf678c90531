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
_DT = np.ascontiguousarray(_D.T)
"""(32, 8): the 8 lowest DCT-II frequencies of a 32-sample signal, as a right factor."""
_FLAT = 1e-3
"""AC energy (relative to the full grey range) below which a thumbnail counts as flat."""
_BATCH = 1024
_DECIMALS = 4
"""Coefficients are rounded to this many decimals (their unit: one grey level of one pooled
pixel, whose smallest effect on a coefficient is about 0.02)."""


def perceptual_hashes(thumbs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """64-bit DCT hashes of ``(k, 64, 64, 4)`` RGBA thumbnails and whether each is meaningful.

    Thumbnails with a transparent margin (non-square images) get the margin filled with their
    mean grey first.
    """
    k = len(thumbs)
    hashes, ok = np.zeros(k, dtype=np.uint64), np.zeros(k, dtype=bool)
    for start in range(0, k, _BATCH):
        part = thumbs[start : start + _BATCH]
        hashes[start : start + len(part)], ok[start : start + len(part)] = _hash_batch(part)
    return hashes, ok


def pooled_grey(thumbs: np.ndarray) -> np.ndarray:
    """``(k, 32, 32)`` float64: R + G + B summed over 2×2 blocks of each RGBA thumbnail.

    The sums are taken in 16-bit integers (at most 4 · 3 · 255), so they are exact and the
    only floating-point work left is two small DCT products on a quarter of the pixels:
    converting the whole RGBA stack to floats first costs several times more.
    """
    k = len(thumbs)
    grey: np.ndarray = np.add(thumbs[..., 0], thumbs[..., 1], dtype=np.uint16)
    grey += thumbs[..., 2]
    pairs = grey.reshape(k, 64, 32, 2)
    rows = (pairs[..., 0] + pairs[..., 1]).reshape(k, 32, 2, 32)
    pooled: np.ndarray = (rows[:, :, 0] + rows[:, :, 1]).astype(np.float64)
    alpha = thumbs[..., 3]
    padded = np.flatnonzero(alpha.min(axis=(1, 2)) == 0)
    if len(padded):
        grey_f = _fill_margin(thumbs[padded].astype(np.float64))[..., :3].sum(axis=-1)
        pooled[padded] = grey_f.reshape(len(padded), 32, 2, 32, 2).sum(axis=(2, 4))
    return pooled


def _hash_batch(thumbs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = len(thumbs)
    pooled = pooled_grey(thumbs)
    # one small product per thumbnail: a product this small runs on one thread, while one big
    # product would wake every BLAS thread, whose spinning costs more CPU than the product
    along_x = (pooled @ _DT).transpose(0, 2, 1)
    coeffs = (along_x @ _DT).reshape(k, _K * _K)  # [x frequency, y frequency]
    # mathematically equal coefficients (symmetric images: gradients, stripes) differ by float
    # noise near 1e-8; rounding far below a one-level change keeps that noise out of the bits
    ac = np.round(coeffs[:, 1:], _DECIMALS)
    med = np.partition(ac, 31, axis=1)[:, 31]  # the median of 63 values
    bits = (ac > med[:, None]).astype(np.uint64)
    hashes = (bits << np.arange(1, 64, dtype=np.uint64)).sum(axis=1, dtype=np.uint64)
    energy = np.sqrt((ac**2).mean(axis=1)) / (_N * 4 * 3 * 255.0)
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
