"""What a plugin returns, checked against what it declared, while a run goes on.

The engine calls these on every processor result, the worker on every loader's headers. A
result that breaks the contract (a declared column missing, a column nobody declared, the
wrong number of rows or the wrong shape, values that do not fit the declared Arrow type)
raises :class:`ContractError`: the plugin is broken, not the image, so the run stops with one
line instead of writing the same error row for every image. A plugin that *raises* on an odd
file is different: that stays an error row for that file.

The checks cost a few dictionary and shape comparisons per call (one call covers a whole
stack of leaves), nothing per pixel.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from pixel_patrol_base.contracts import (
    AXES,
    Column,
    ImageHeader,
    LeafProcessor,
    Loader,
    MemoryProcessor,
    Processor,
)
from pixel_patrol_base.errors import ContractError

__all__ = ["leaf_output", "loader_headers", "memory_output", "plain_scalar", "split_kinds"]

_KINDS = {"f": "fiub", "i": "iub", "b": "b"}
"""Array dtype kinds accepted for float, integer and boolean columns (no silent truncation)."""


def _broken(plugin: Processor | Loader, problem: str) -> ContractError:
    from pixel_patrol_base.plugins import LOADER_GROUP, PROCESSOR_GROUP, describe

    group = PROCESSOR_GROUP if hasattr(plugin, "KIND") else LOADER_GROUP
    return ContractError(f"{describe(group, plugin.NAME)} broke its contract: {problem}")


def loader_headers(loader: Loader, headers: Sequence[Any]) -> None:
    """Headers a loader produced: ``ImageHeader`` values, consistent axes, declared metadata.

    Cheap (set operations per image); the loader conformance kit checks the values as well.
    """
    declared = {c.name for c in loader.COLUMNS}
    for h in headers:
        if not isinstance(h, ImageHeader):
            raise _broken(loader, f"returned {type(h).__name__} instead of an ImageHeader")
        dims = h.dim_order
        if len(set(dims)) != len(dims) or set(dims) - set(AXES) or len(dims) != len(h.shape):
            raise _broken(loader, f"header has dim_order {dims!r} for shape {tuple(h.shape)}")
        extra = sorted(set(h.metadata) - declared)
        if extra:
            raise _broken(loader, f"metadata key(s) {', '.join(map(repr, extra))} not in its COLUMNS")


def split_kinds(processors: Sequence[Processor]) -> tuple[list[LeafProcessor], list[MemoryProcessor]]:
    """Leaf and memory processors; any other ``KIND`` is a contract violation."""
    for p in processors:
        if p.KIND not in ("leaf", "memory"):
            raise _broken(p, f"KIND is {p.KIND!r}, not 'leaf' or 'memory'")
    leaf = [p for p in processors if p.KIND == "leaf"]
    memory = [p for p in processors if p.KIND == "memory"]
    return leaf, memory


def _same_keys(proc: Processor, out: Any, declared: Sequence[Column]) -> None:
    if not isinstance(out, Mapping):
        raise _broken(proc, f"returned {type(out).__name__}, not a mapping of column values")
    names = [c.name for c in declared]
    missing = [n for n in names if n not in out]
    if missing:
        raise _broken(proc, f"did not return declared column(s) {', '.join(map(repr, missing))}")
    known = set(names)
    extra = sorted(str(k) for k in out if k not in known)
    if extra:
        raise _broken(proc, f"returned column(s) {', '.join(map(repr, extra))} not in its COLUMNS")


def _row_shape(type_: pa.DataType) -> tuple[int, ...]:
    return (type_.list_size,) if pa.types.is_fixed_size_list(type_) else ()


def _kind_of(type_: pa.DataType) -> str:
    if pa.types.is_fixed_size_list(type_):
        type_ = type_.value_type
    if pa.types.is_floating(type_):
        return "f"
    return "b" if pa.types.is_boolean(type_) else "i"


def leaf_output(proc: LeafProcessor, out: Any, n: int) -> dict[str, np.ndarray]:
    """The arrays of one ``run`` over ``n`` leaves, checked and widened to float64 / int64.

    Every declared column (internal ones included) and nothing else; each array has ``n``
    rows of the declared per-row shape (``()``, or ``(k,)`` for a fixed-size list) and a dtype
    that converts without loss of meaning (no floats into integer columns).
    """
    _same_keys(proc, out, proc.COLUMNS)
    result = {}
    for col, row_shape, kind in _specs(proc.COLUMNS):
        arr = np.asarray(out[col.name])
        want = (n, *row_shape)
        if arr.shape != want:
            raise _broken(proc, f"column {col.name!r} has shape {arr.shape}, expected {want}")
        if arr.dtype.kind not in _KINDS[kind]:
            raise _broken(proc, f"column {col.name!r} holds {arr.dtype} values; declared {col.type}")
        result[col.name] = _widen(arr, kind)
    return result


Specs = tuple[tuple[Column, tuple[int, ...], str], ...]
_SPECS: dict[int, tuple[Sequence[Column], Specs]] = {}


def _specs(columns: Sequence[Column]) -> Specs:
    """Per column its per-row shape and value kind, derived from the Arrow types once per
    processor rather than for every batch of leaves.

    Kept by the identity of the processor's ``COLUMNS`` tuple (hashing the declarations
    would cost as much as deriving them); the entry holds the tuple, so its id stays unique.
    """
    hit = _SPECS.get(id(columns))
    if hit is not None and hit[0] is columns:
        return hit[1]
    specs = tuple((c, _row_shape(c.type), _kind_of(c.type)) for c in columns)
    if isinstance(columns, tuple):  # immutable: safe to keep
        if len(_SPECS) >= 256:
            _SPECS.clear()
        _SPECS[id(columns)] = (columns, specs)
    return specs


def _widen(arr: np.ndarray, kind: str) -> np.ndarray:
    """The accumulator type of the column: float64, int64, or bool as it is."""
    if kind == "f":
        return arr.astype(np.float64, copy=False)
    if kind == "i":
        return arr.astype(np.int64, copy=False)
    return arr


def memory_output(proc: MemoryProcessor, result: Any) -> dict[str, Any]:
    """The obs_level-0 values from ``finish``: every declared column, each fitting its type.

    Values come back as plain Python values (NumPy scalars unwrapped, NaN as ``None``).
    """
    public = [c for c in proc.COLUMNS if not c.internal]
    _same_keys(proc, result, public)
    out = {}
    for col in public:
        value = plain_scalar(result[col.name])
        if _plainly_fits(value, col.type):
            out[col.name] = value
            continue
        try:
            pa.array([value], type=col.type)
        except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
            raise _broken(proc, f"column {col.name!r} value {_short(value)} does not fit {col.type}") from exc
        out[col.name] = value
    return out


_INT64 = (-(2**63), 2**63 - 1)
_BINARY = (pa.binary(), pa.large_binary())
_STRING = (pa.string(), pa.large_string())


def _plainly_fits(value: Any, type_: pa.DataType) -> bool:
    """Values Arrow certainly takes for the column, decided without building an array (which
    cost 0.3 ms per image for a 16 kB thumbnail, and imports pandas on first use); anything
    else, non-ASCII text included (a lone surrogate cannot be encoded), is left to Arrow."""
    if value is None:
        return True
    kind = type(value)
    if kind is bytes:
        return len(value) < 2**31 and type_ in _BINARY
    if kind is str:
        return len(value) < 2**29 and value.isascii() and type_ in _STRING
    if kind is float:
        return bool(type_ == pa.float64())
    if kind is int:
        return bool(type_ == pa.int64()) and _INT64[0] <= value <= _INT64[1]
    return kind is bool and bool(type_ == pa.bool_())


def plain_scalar(value: Any) -> Any:
    """A processor value as a plain Python value (NaN → None, arrays → lists)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
