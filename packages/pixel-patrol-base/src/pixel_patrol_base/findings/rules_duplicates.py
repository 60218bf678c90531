"""``duplicate`` (equal ``pixel_hash``) and ``near-duplicate`` (close perceptual hashes).

A copy shared by two conditions is leakage: the same data counted as control and as treated,
or in a training and a test split; that is an error. Copies inside one condition inflate its
sample size: a warning. Constant images are left out (they are ``blank``, and all blank images
of one size are trivially equal). Near-duplicates are images of different files whose
thumbnails' DCT hashes differ in at most 4 of 64 bits: the same field saved again with other
contrast or a small shift.
"""

from __future__ import annotations

import numpy as np

from pixel_patrol_base.findings.build import Text, finding, plural
from pixel_patrol_base.findings.context import Context
from pixel_patrol_base.findings.model import Finding
from pixel_patrol_base.findings.phash import near_pairs
from pixel_patrol_base.findings.stats import dense_ids

DUP_ACTION = "Keep one copy of each group; if the copies sit in different conditions or splits, decide where the data belongs."
NEAR_ACTION = "Check whether these files show the same field of view; keep one if they do, so it is not counted twice."


def duplicate(ctx: Context) -> list[Finding]:
    """Groups of images with identical pixels, split into cross-condition and within-condition."""
    f = ctx.frame
    rows = f.image_rows
    rows = rows[f.num("std_intensity")[rows] != 0] if f.has("std_intensity") else rows
    hashes = f.strings("pixel_hash")
    rows = rows[hashes.codes[rows] >= 0]
    codes = hashes.codes[rows]
    counts = np.bincount(codes, minlength=len(hashes.values))
    rows = rows[counts[codes] > 1]
    return _report(ctx, rows, hashes.codes[rows], "duplicate", {})


def near_duplicate(ctx: Context) -> list[Finding]:
    """Images of different files with perceptual hashes within the Hamming limit."""
    f = ctx.frame
    rows = f.image_rows
    rows = rows[f.phash_ok[rows]]
    if len(rows) < 2:
        return []
    exact = f.strings("pixel_hash").codes
    rows = _one_per_exact_copy(rows, exact[rows])
    values, inverse = np.unique(f.phash[rows], return_inverse=True)
    inverse = inverse.reshape(-1)
    limit = int(ctx.settings.get("near-duplicate", "max_hamming"))
    i, j, d = near_pairs(values, limit)
    first_row = _first_rows(inverse, len(values))
    comp = _components(
        len(rows),
        np.concatenate([np.arange(len(rows)), first_row[i]]),
        np.concatenate([first_row[inverse], first_row[j]]),
    )
    dist = _min_distance(len(values), i, j, d)
    dist[np.bincount(inverse, minlength=len(values)) > 1] = 0
    group_rows, group_ids = _different_files(ctx, rows, comp)
    by_row = dict(zip(rows.tolist(), dist[inverse].tolist(), strict=True))
    return _report(ctx, group_rows, group_ids, "near-duplicate", by_row)


def _one_per_exact_copy(rows: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Keep rows without a hash and the first row of each exact-copy group (reported apart)."""
    no_hash = codes < 0
    _, first = np.unique(codes[~no_hash], return_index=True)
    return np.sort(np.concatenate([rows[no_hash], rows[~no_hash][first]]))


def _first_rows(inverse: np.ndarray, n_values: int) -> np.ndarray:
    """For each hash value, the first row holding it."""
    first = np.full(n_values, len(inverse), dtype=np.int64)
    np.minimum.at(first, inverse, np.arange(len(inverse)))
    return first


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of the graph with edges (a, b): label propagation to the minimum."""
    label = np.arange(n)
    while True:
        low = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]
        if np.array_equal(new, label):
            return label
        label = new


def _min_distance(n_values: int, i: np.ndarray, j: np.ndarray, d: np.ndarray) -> np.ndarray:
    out = np.zeros(n_values, dtype=np.int64) + 64
    np.minimum.at(out, i, d)
    np.minimum.at(out, j, d)
    return out


def _different_files(ctx: Context, rows: np.ndarray, comp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of components that span at least two files, and their component ids."""
    f = ctx.frame
    paths = f.path.codes[rows]
    pair, n_pairs = dense_ids(comp, paths)
    first = np.full(n_pairs, len(pair), dtype=np.int64)
    np.minimum.at(first, pair, np.arange(len(pair)))
    n_files = np.bincount(comp[first], minlength=len(rows))
    keep = n_files[comp] >= 2
    return rows[keep], comp[keep]


def _report(ctx: Context, rows: np.ndarray, gid: np.ndarray, rid: str, dist: dict[int, int]) -> list[Finding]:
    """One finding for groups spanning conditions, one per condition for the others."""
    f = ctx.frame
    if not len(rows):
        return []
    _, gid = np.unique(gid, return_inverse=True)
    gid = gid.reshape(-1)
    conds = f.cond.codes[rows]
    pair, n_pairs = dense_ids(gid, conds)
    first = np.full(n_pairs, len(pair), dtype=np.int64)
    np.minimum.at(first, pair, np.arange(len(pair)))
    spans = np.bincount(gid[first], minlength=int(gid.max()) + 1) > 1
    out = []
    across = spans[gid]
    if across.any():
        out.append(_group_finding(ctx, rows[across], gid[across], rid, None, dist))
    for c in np.unique(conds[~across]):
        sel = ~across & (conds == c)
        out.append(_group_finding(ctx, rows[sel], gid[sel], rid, ctx.cond_label(int(c)), dist))
    return out


def _group_finding(
    ctx: Context, rows: np.ndarray, gid: np.ndarray, rid: str, cond: str | None, dist: dict[int, int]
) -> Finding:
    f = ctx.frame
    order = np.lexsort((rows, gid))
    rows, gid = rows[order], gid[order]
    _, number = np.unique(gid, return_inverse=True)
    number = number.reshape(-1) + 1
    n_groups = int(number.max())
    labels = sorted({ctx.cond_label(int(c)) for c in f.cond.codes[rows]})
    where = f"across conditions {', '.join(labels)}" if cond is None else f"in {cond}"
    what = "identical pixels" if rid == "duplicate" else "near-identical thumbnails (same field of view?)"
    severity = "error" if (cond is None and rid == "duplicate") else "warning"
    text = Text(
        lambda r: f"{plural(len(r), 'image')} in {plural(n_groups, 'group')} have {what} {where}",
        DUP_ACTION if rid == "duplicate" else NEAR_ACTION,
    )
    threshold = 0 if rid == "duplicate" else ctx.settings.get("near-duplicate", "max_hamming")
    value = n_groups if rid == "duplicate" else min(dist.get(int(i), 64) for i in rows)
    return finding(
        f, rid, severity, rows, text, value=value, threshold=threshold, evidence=number,  # type: ignore[arg-type]
        condition=cond, scope="image" if cond is not None else "dataset",
    )
