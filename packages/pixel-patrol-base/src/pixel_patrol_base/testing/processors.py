"""Conformance kit for processor plugins: ``check_processor``.

A processor's values must not depend on how the pipeline feeds it: how many leaves are stacked
into one ``run`` call (set by the memory budget), how an image is cut into memory chunks (set by
``--mb-per-task``), whether the image is one leaf or many (``--slice-size``), or whether the
processor travelled to a Dask worker. ``check_processor`` runs the processor through the real
engine on sample images in each of those ways and compares the rows, besides checking that
what it returns matches what it declares.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pixel_patrol_base.contracts import AXES, ImageContext, ImageHeader, LeafStack, Processor
from pixel_patrol_base.errors import ContractError
from pixel_patrol_base.testing.loaders import check_declarations, check_picklable

__all__ = ["check_processor", "sample_images"]

Sample = tuple[np.ndarray, str]
"""Pixels and their ``dim_order`` (letters of ``TCZYXS``)."""

Rows = dict[str, list[Any]]


def sample_images(seed: int = 0) -> list[Sample]:
    """Small images covering the cases processors get wrong.

    8- and 16-bit, signed, float with NaN and ±Inf, RGB samples, a constant plane and an
    all-NaN plane; several axes to split; planes of 16-31 px (big enough for 7x7 windows).
    """
    rng = np.random.default_rng(seed)
    floats = rng.normal(50, 12, (2, 2, 17, 19)).astype(np.float32)
    mask = rng.random(floats.shape)
    floats[mask < 0.04] = np.nan
    floats[(mask >= 0.04) & (mask < 0.06)] = np.inf
    floats[(mask >= 0.06) & (mask < 0.07)] = -np.inf
    odd = rng.normal(0, 1e-3, (3, 16, 18))
    odd[1] = 7.0
    odd[2] = np.nan
    return [
        (rng.integers(0, 256, (24, 31)).astype(np.uint8), "YX"),
        (rng.integers(100, 4000, (3, 20, 26)).astype(np.uint16), "ZYX"),
        (rng.integers(-500, 500, (2, 3, 16, 18)).astype(np.int16), "CZYX"),
        (floats, "TCYX"),
        (rng.integers(0, 256, (18, 22, 3)).astype(np.uint8), "YXS"),
        (odd, "ZYX"),
    ]


def check_processor(
    processor: Processor,
    images: Sequence[Sample] | None = None,
    *,
    split_axes: str = "ZTCS",
    rtol: float = 1e-9,
    atol: float = 1e-12,
) -> list[Rows]:
    """Check ``processor`` against its contract on ``images`` (default :func:`sample_images`).

    Parameters
    ----------
    processor
        A leaf or memory processor instance.
    images
        ``(pixels, dim_order)`` pairs.
    split_axes
        Axes along which the obs_level-0 values must not depend on the leaf blocks. The
        default leaves Y and X out, for metrics of whole planes (neighbourhoods, frequencies);
        add them (``"ZTCSYX"``) for pixel-wise statistics, then memory chunks may also cut
        through planes.
    rtol, atol
        Float tolerance of every comparison (merging partial results rounds differently).

    Returns
    -------
    list
        The engine's rows (column name → one value per obs row) for each image.

    Checked: the declarations (as at selection); every run returns exactly the declared
    columns with the declared shapes and types that fit the Arrow types; a leaf processor
    gives the same values for a stack of leaves as for each leaf alone; obs_level-0 values are
    the same with one leaf or leaf blocks along ``split_axes``; rows are the same when the image
    is cut into memory chunks the way the planner cuts large images; and the processor gives
    the same rows after a round trip through pickle and Dask's serialisation.
    """
    check_declarations(processor)
    copies = check_picklable(processor)
    out = []
    for i, (pixels, dims) in enumerate(images if images is not None else sample_images()):
        where = f"processor {processor.NAME!r} on image {i} ({dims} {pixels.dtype})"
        header = ImageHeader(dims, tuple(pixels.shape), pixels.dtype.name)
        rows = _engine(processor, pixels, header, {}, where)
        _check_writable(processor, rows, where)
        if processor.KIND == "leaf":
            _check_stack_split(processor, pixels, dims, rtol, atol, where)
        _check_leaf_merge(processor, pixels, header, split_axes, rtol, atol, where)
        _check_chunks(processor, pixels, header, "YX" in split_axes, rows, rtol, atol, where)
        for copy in copies:
            again = _engine(copy, pixels, header, {}, where)
            _assert_same(rows, again, rtol, atol, f"{where}, after pickling")
        out.append(rows)
    return out


def _engine(
    proc: Processor,
    pixels: np.ndarray,
    header: ImageHeader,
    slice_size: Mapping[str, int],
    where: str,
    chunks: Sequence[tuple[slice, ...]] | None = None,
) -> Rows:
    """The engine's rows, as one chunk or as ``chunks`` (in the given order)."""
    from pixel_patrol_base.engine import analyse_chunk, finish_image, finite_range, merge_ranges

    boxes = chunks or [tuple(slice(0, n) for n in pixels.shape)]
    value_range = merge_ranges(finite_range(pixels[b]) for b in boxes) if proc.NEEDS_RANGE else None
    try:
        parts = [
            analyse_chunk(np.ascontiguousarray(pixels[b]), b, header, slice_size, [proc], value_range)
            for b in boxes
        ]
        return finish_image(parts, header, slice_size, [proc], value_range)
    except ContractError as exc:
        raise AssertionError(f"{where}: {exc}") from exc


def _check_writable(proc: Processor, rows: Rows, where: str) -> None:
    """Every value goes into the report with its declared Arrow type."""
    from pixel_patrol_base.rows import RowBuffer
    from pixel_patrol_base.schema import to_schema, with_order

    public = [c for c in proc.COLUMNS if not c.internal]
    buf = RowBuffer(with_order(to_schema(public)))
    try:
        buf.add(0, {}, {c.name: rows[c.name] for c in public}, len(rows["obs_level"]))
        buf.to_table()
    except (ValueError, TypeError, OverflowError) as exc:
        raise AssertionError(f"{where}: values do not fit the declared types: {exc}") from exc


def _leaves(pixels: np.ndarray, dims: str) -> np.ndarray:
    """Default leaf blocks (one per index of every non-plane axis) stacked as the engine does."""
    split = [i for i, a in enumerate(dims) if a not in "YX"]
    blocks = []
    for combo in itertools.product(*(range(pixels.shape[i]) for i in split)):
        box = [slice(None)] * pixels.ndim
        for i, k in zip(split, combo, strict=True):
            box[i] = slice(k, k + 1)
        blocks.append(pixels[tuple(box)])
    return np.stack(blocks)


def _check_stack_split(
    proc: Any, pixels: np.ndarray, dims: str, rtol: float, atol: float, where: str
) -> None:
    """``run`` on a stack of leaves equals ``run`` on each leaf, and on any split of the stack."""
    from pixel_patrol_base.engine import finite_range
    from pixel_patrol_base.plugin_outputs import leaf_output

    stack = _leaves(pixels, dims)
    image = ImageContext(dims, tuple(pixels.shape), pixels.dtype.name,
                         finite_range(pixels) if proc.NEEDS_RANGE else None)

    def run(data: np.ndarray) -> dict[str, np.ndarray]:
        try:
            return leaf_output(proc, proc.run(LeafStack(np.ascontiguousarray(data), image)), len(data))
        except ContractError as exc:
            raise AssertionError(f"{where}: {exc}") from exc

    whole = run(stack)
    cut = max(1, len(stack) // 2)
    for name, parts in (("each leaf alone", [stack[i : i + 1] for i in range(len(stack))]),
                        ("two halves", [stack[:cut], stack[cut:]])):
        joined = [run(p) for p in parts if len(p)]
        got = {k: np.concatenate([j[k] for j in joined]) for k in whole}
        _assert_same(_as_rows(whole), _as_rows(got), rtol, atol, f"{where}, stack vs {name}")


def _as_rows(cols: Mapping[str, np.ndarray]) -> Rows:
    return {k: list(v) for k, v in cols.items()}


def _check_leaf_merge(
    proc: Processor, pixels: np.ndarray, header: ImageHeader, split_axes: str,
    rtol: float, atol: float, where: str,
) -> None:
    """obs_level-0 values: the image as one leaf equals the rollup of its leaf blocks."""
    one_leaf = {a: -1 for a in AXES}
    blocks = {a: (max(1, header.size(a) // 3) if a in "YX" else 1) for a in split_axes}
    whole = _engine(proc, pixels, header, one_leaf, where)
    split = _engine(proc, pixels, header, blocks, where)
    names = [c.name for c in proc.COLUMNS if not c.internal]
    _assert_same(_first(whole, names), _first(split, names), rtol, atol,
                 f"{where}, one leaf vs leaf blocks along {split_axes}")


def _first(rows: Rows, names: Sequence[str]) -> Rows:
    return {n: rows[n][:1] for n in names}


def _check_chunks(
    proc: Processor, pixels: np.ndarray, header: ImageHeader, cut_planes: bool,
    rows: Rows, rtol: float, atol: float, where: str,
) -> None:
    """The rows do not change when the image is processed in memory chunks, in any order."""
    from pixel_patrol_base.planning import chunk_regions, chunk_shape

    plane = header.size("Y") * header.size("X") * header.size("S") * pixels.dtype.itemsize
    floor = 1 if cut_planes else plane
    rng = np.random.default_rng(len(pixels.shape))
    for parts in (2, 5):
        budget = max(floor, math.ceil(pixels.nbytes / parts))
        shape = chunk_shape(header.dim_order, pixels.shape, pixels.dtype.itemsize, {}, budget)
        regions = chunk_regions(pixels.shape, shape)
        boxes = [tuple(slice(a, b) for a, b in r) for r in regions]
        boxes = [boxes[i] for i in rng.permutation(len(boxes))]
        got = _engine(proc, pixels, header, {}, where, boxes)
        _assert_same(rows, got, rtol, atol, f"{where}, whole vs {len(boxes)} memory chunks")


def _assert_same(want: Rows, got: Rows, rtol: float, atol: float, where: str) -> None:
    for name, values in want.items():
        other = got.get(name)
        assert other is not None and len(other) == len(values), f"{where}: column {name!r} rows differ"
        for row, (a, b) in enumerate(zip(values, other, strict=True)):
            assert _close(a, b, rtol, atol), f"{where}: {name!r} row {row}: {_short(a)} != {_short(b)}"


def _close(a: Any, b: Any, rtol: float, atol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bytes | str) or isinstance(b, bytes | str):
        return bool(a == b)
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape:
        return False
    if x.dtype.kind in "fc" or y.dtype.kind in "fc":
        return bool(np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True))
    return bool(np.array_equal(x, y))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
