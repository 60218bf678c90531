"""Which rows are compared with which: stacks along an axis, channels, condition groups."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pixel_patrol_base.findings.frame import DIMS, Frame
from pixel_patrol_base.findings.stats import dense_ids

BIT = {a: 1 << i for i, a in enumerate(DIMS)}


def signature(frame: Frame, rows: np.ndarray) -> np.ndarray:
    """Bit mask of the axes each row fixes (z=1, t=2, c=4, s=8)."""
    sig = np.zeros(len(rows), dtype=np.int64)
    for a in DIMS:
        sig |= np.where(frame.dims[a][rows] >= 0, BIT[a], 0)
    return sig


@dataclass(frozen=True, slots=True)
class Grouped:
    """Rows with a group id each (0 … n_groups-1) and their position along the varying axis."""

    rows: np.ndarray
    group: np.ndarray
    n_groups: int
    position: np.ndarray

    def sizes(self) -> np.ndarray:
        """Number of rows of each row's group."""
        result: np.ndarray = np.bincount(self.group, minlength=self.n_groups)[self.group]
        return result


def along(frame: Frame, axis: str, signatures: tuple[int, ...] | None = None) -> Grouped:
    """Slice rows that vary along ``axis`` with everything else equal (one group per stack).

    ``signatures`` restricts to rows fixing exactly those axis sets (e.g. z alone, or z and c).
    """
    rows = np.flatnonzero((frame.obs >= 1) & ~frame.error & (frame.dims[axis] >= 0))
    sig = signature(frame, rows)
    if signatures is not None:
        keep = np.isin(sig, signatures)
        rows, sig = rows[keep], sig[keep]
    if not len(rows):
        empty = np.zeros(0, dtype=np.int64)
        return Grouped(rows, empty, 0, empty)
    others = [frame.dims[a][rows] for a in DIMS if a != axis]
    group, n_groups = dense_ids(frame.image[rows], sig, *others)
    return Grouped(rows, group, n_groups, frame.dims[axis][rows])


def channel_rows(frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """One row per image and channel (the per-channel rows, else the image row) and the channel.

    Channel -1 stands for an image without per-channel rows (single channel or C not sliced).
    """
    slices = np.flatnonzero((frame.obs == 1) & ~frame.error)
    per_channel = slices[signature(frame, slices) == BIT["c"]]
    whole = frame.image_rows
    whole = whole[~np.isin(frame.image[whole], frame.image[per_channel])]
    rows = np.concatenate([whole, per_channel])
    channel = np.concatenate([np.full(len(whole), -1), frame.dims["c"][per_channel]])
    order = np.argsort(rows, kind="stable")
    return rows[order], channel[order]


def compare_groups(frame: Frame, rows: np.ndarray, channel: np.ndarray) -> tuple[np.ndarray, int]:
    """Group id of each row for comparisons between images: condition × dtype × channel."""
    if not len(rows):
        return np.zeros(0, dtype=np.int64), 0
    return dense_ids(frame.cond.codes[rows], frame.strings("dtype").codes[rows], channel)
