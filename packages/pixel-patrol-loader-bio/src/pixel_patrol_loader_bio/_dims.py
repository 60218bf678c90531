"""The one dimension normaliser shared by the ``bioio``, ``tifffile`` and ``zarr`` loaders.

Every format names its axes differently (tifffile letters such as ``QSYX``, bioio's
``TCZYX``/``HTCZYX``/``MTCZYX``, NGFF axis names such as ``"c"`` or ``"time"``). The report
needs one vocabulary, ``T C Z Y X S``, so the three loaders agree on what an image looks like.

Rules (in this order):

1. Each label is mapped to a letter: ``T C Z Y X S`` map to themselves (case-insensitive);
   the names ``time``, ``channel``/``ch``, ``depth``, ``sample(s)``/``rgb``/``rgba`` and the
   spectral names ``e``/``lambda``/``wavelength`` (a spectral axis is a channel axis) map to
   ``T``, ``C``, ``Z``, ``S`` and ``C``. Everything else (tifffile ``Q``, ``I``, ``A``, ``P``,
   ``R``, ``H``, ``V``, ``M`` ...; bioio ``H``, ``V``, ``I``, ``R`` ...) is *unknown*.
2. Axes of extent 1 are dropped, except ``Y`` and ``X`` which are always kept.
3. A known letter that occurs twice among the kept axes counts as unknown the second time.
4. Unknown kept axes, in storage order, take the first letter of ``Z``, ``T``, ``C`` that is
   still free. ``Z`` comes first because an unlabelled stack of planes is, as in ImageJ, read as
   slices; so tifffile's ``QSYX`` becomes ``ZSYX``.
5. An unknown axis that finds no free letter is folded into the neighbouring non-plane axis
   (the next one towards Y/X, else the previous one), e.g. 2 views x 5 time points -> ``T=10``.
   The axes are never reordered: ``dim_order`` is the storage order.

The result is an :class:`AxisPlan` that also translates a region of the normalised image into a
region of the raw array, so loaders can decode only what is asked for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pixel_patrol_base.contracts import Region
from pixel_patrol_base.regions import region_steps

PLANE = frozenset("YXS")
"""Letters that describe the inside of a plane rather than a stack of planes."""

FREE_ORDER = "ZTC"
"""Order in which unknown axes take the free non-plane letters."""

_NAMES = {
    "t": "T", "time": "T",
    "c": "C", "ch": "C", "channel": "C", "channels": "C",
    "e": "C", "lambda": "C", "wavelength": "C",
    "z": "Z", "depth": "Z",
    "y": "Y", "x": "X",
    "s": "S", "sample": "S", "samples": "S", "rgb": "S", "rgba": "S",
}  # fmt: skip


def letter_for(label: str) -> str | None:
    """Normalised letter for one axis label, or ``None`` when its meaning is unknown."""
    return _NAMES.get(str(label).strip().lower())


@dataclass(frozen=True, slots=True)
class AxisPlan:
    """How a raw array maps onto the normalised image.

    Attributes
    ----------
    raw_shape
        Shape of the array as the reader stores it.
    groups
        For each output axis, the raw axes it is made of (one, or several folded ones).
        Raw axes in no group have extent 1 and are dropped.
    dim_order
        Output axis letters, in storage order.
    shape
        Output shape.
    """

    raw_shape: tuple[int, ...]
    groups: tuple[tuple[int, ...], ...]
    dim_order: str
    shape: tuple[int, ...]

    def raw_region(self, region: Region | None) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
        """Translate ``region`` (in output axes) into a raw box and the cut to apply after it.

        Returns
        -------
        raw, post
            ``raw`` has one ``slice`` per raw axis and is the smallest box the reader must
            decode; ``post`` has one slice per output axis and cuts the exact region (and its
            step) out of the reshaped box.
        """
        bounds = region_steps(region, self.shape)
        raw = [slice(0, 1)] * len(self.raw_shape)
        post = []
        for group, (start, stop, step) in zip(self.groups, bounds, strict=True):
            inner = math.prod(self.raw_shape[i] for i in group[1:])
            lo, hi = start // inner, max(start // inner, (stop - 1) // inner + 1)
            raw[group[0]] = slice(lo, hi)
            for i in group[1:]:
                raw[i] = slice(0, self.raw_shape[i])
            post.append(slice(start - lo * inner, stop - lo * inner, step))
        return tuple(raw), tuple(post)

    def region_shape(self, raw: tuple[slice, ...], post: tuple[slice, ...]) -> tuple[int, ...]:
        """Shape of the array :meth:`finish` makes from the box ``raw`` cut by ``post``."""
        out = []
        for group, cut in zip(self.groups, post, strict=True):
            extent = math.prod(raw[i].stop - raw[i].start for i in group)
            out.append(len(range(*cut.indices(extent))))
        return tuple(out)

    def finish(self, block: np.ndarray, post: tuple[slice, ...] | None = None) -> np.ndarray:
        """Reshape a raw ``block`` (as cut by :meth:`raw_region`) to output axes and cut it."""
        out_shape = tuple(math.prod(block.shape[i] for i in group) for group in self.groups)
        arr = np.asarray(block).reshape(out_shape)
        return arr if post is None else arr[post]


def plan_axes(labels: Sequence[str], shape: Sequence[int]) -> AxisPlan:
    """Normalise raw axis ``labels`` of an array of ``shape`` (rules in the module docstring).

    Raises
    ------
    ValueError
        When labels and shape disagree, Y or X is missing, or an axis cannot be placed.
    """
    raw_shape = tuple(int(n) for n in shape)
    if len(labels) != len(raw_shape):
        raise ValueError(f"{len(labels)} axis labels for a {len(raw_shape)}-d array")
    letters = [letter_for(lab) for lab in labels]
    for need in "YX":
        if need not in letters:
            raise ValueError(f"no {need} axis among axes {list(labels)}")
    kept = [i for i, n in enumerate(raw_shape) if n != 1 or letters[i] in ("Y", "X")]
    assigned = _assign_letters(kept, letters)
    groups, order = _fold_unplaced(kept, assigned, labels)
    out_shape = tuple(math.prod(raw_shape[i] for i in g) for g in groups)
    return AxisPlan(raw_shape, tuple(groups), "".join(order), out_shape)


def _assign_letters(kept: list[int], letters: list[str | None]) -> dict[int, str | None]:
    """Known letters first (first occurrence wins), then unknown axes take free letters."""
    assigned: dict[int, str | None] = {}
    used: set[str] = set()
    for i in kept:
        letter = letters[i]
        if letter is not None and letter not in used:
            assigned[i] = letter
            used.add(letter)
        else:
            assigned[i] = None
    for i in kept:
        if assigned[i] is None:
            free = next((c for c in FREE_ORDER if c not in used), None)
            assigned[i] = free
            if free is not None:
                used.add(free)
    return assigned


def _fold_unplaced(
    kept: list[int], assigned: dict[int, str | None], labels: Sequence[str]
) -> tuple[list[tuple[int, ...]], list[str]]:
    """Group axes without a letter with their non-plane neighbour (next one, else previous)."""
    groups: list[list[int]] = []
    order: list[str] = []
    pending: list[int] = []
    for i in kept:
        letter = assigned[i]
        if letter is None:
            pending.append(i)
            continue
        if pending and letter not in PLANE:
            groups.append([*pending, i])
            pending = []
        else:
            if pending:
                _fold_into_previous(groups, order, pending, labels)
                pending = []
            groups.append([i])
        order.append(letter)
    if pending:
        _fold_into_previous(groups, order, pending, labels)
    return [tuple(g) for g in groups], order


def _fold_into_previous(
    groups: list[list[int]], order: list[str], pending: list[int], labels: Sequence[str]
) -> None:
    if not groups or order[-1] in PLANE:
        names = [labels[i] for i in pending]
        raise ValueError(f"cannot place axes {names}: more than three non-plane axes")
    groups[-1].extend(pending)
