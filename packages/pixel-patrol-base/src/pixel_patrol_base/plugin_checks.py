"""A plugin checked against its contract when it is selected, before any image is read.

What a loader or processor declares (``NAME``, ``KIND``, ``COLUMNS``, methods) decides the
report schema and how the rollup treats its values. A mistake there would otherwise surface
inside the per-image boundary, as the same error row on every image, or as silently wrong
rows. Checking the declarations once, up front, turns it into one :class:`PluginError` that
names the plugin and the distribution it came from (the CLI exits with code 2).

The checks are static: they look at the class and one instance, never at pixels. What a
plugin *returns* is checked while the run goes on (:mod:`pixel_patrol_base.plugin_outputs`),
and the conformance kit (:mod:`pixel_patrol_base.testing`) runs both on sample images.
"""

from __future__ import annotations

import inspect
import pickle
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pyarrow as pa

from pixel_patrol_base.columns import (
    CHILD_COLUMN,
    DIM_COLUMNS,
    ERROR_COLUMNS,
    FILE_COLUMNS,
    IMAGE_COLUMNS,
    plane_dim_columns,
)
from pixel_patrol_base.contracts import Agg, Column
from pixel_patrol_base.errors import PluginError

__all__ = [
    "CORE_COLUMN_NAMES",
    "check_instance",
    "check_loader_class",
    "check_processor_class",
    "clashes",
    "leaf_type_ok",
]

CORE_COLUMN_NAMES = frozenset(
    c.name
    for c in (
        *FILE_COLUMNS,
        *DIM_COLUMNS,
        *plane_dim_columns("YX"),
        CHILD_COLUMN,
        *ERROR_COLUMNS,
        *IMAGE_COLUMNS,
    )
)
"""Columns the core writes itself; no plugin may declare one of these names."""

KINDS = ("leaf", "memory")

METHODS: dict[str, tuple[tuple[str, int], ...]] = {
    "loader": (("open", 1),),
    "leaf": (("run", 1),),
    "memory": (("run", 3), ("finish", 2)),
}
"""Required methods and how many positional arguments the pipeline passes to each."""


def _fail(what: str, problem: str) -> PluginError:
    return PluginError(f"{what}: {problem}")


def _check_name(cls: Any, what: str) -> None:
    name = getattr(cls, "NAME", None)
    if not isinstance(name, str) or not name or name != name.strip() or " " in name:
        raise _fail(what, f"NAME must be a non-empty id without spaces, got {name!r}")


def _check_extensions(cls: Any, attr: str, what: str) -> None:
    exts = getattr(cls, attr, None)
    if not isinstance(exts, frozenset | set):
        raise _fail(what, f"{attr} must be a frozenset of extensions, got {type(exts).__name__}")
    for ext in exts:
        if not isinstance(ext, str) or not ext or ext.startswith(".") or ext != ext.lower():
            raise _fail(what, f"{attr} entry {ext!r} must be lower case without the leading dot")


def _columns(cls: Any, what: str) -> tuple[Column, ...]:
    cols = getattr(cls, "COLUMNS", None)
    if not isinstance(cols, tuple | list) or not all(isinstance(c, Column) for c in cols):
        raise _fail(what, "COLUMNS must be a tuple of pixel_patrol_base.contracts.Column")
    seen: set[str] = set()
    for c in cols:
        _check_column(c, what)
        if c.name in seen:
            raise _fail(what, f"column {c.name!r} is declared twice in COLUMNS")
        seen.add(c.name)
    return tuple(cols)


def _check_column(c: Column, what: str) -> None:
    """One declaration on its own: name, type, description, rule."""
    if not isinstance(c.name, str) or not c.name:
        raise _fail(what, f"column name {c.name!r} must be a non-empty string")
    if c.name.startswith("_") and not c.internal:
        raise _fail(what, f"column name {c.name!r}: only internal columns (never written) may start with '_'")
    if c.name in CORE_COLUMN_NAMES:
        raise _fail(what, f"column {c.name!r} clashes with a column the core writes; rename it")
    if not isinstance(c.type, pa.DataType):
        raise _fail(what, f"column {c.name!r}: type must be a pyarrow DataType, got {c.type!r}")
    if not isinstance(c.agg, Agg):
        raise _fail(what, f"column {c.name!r}: agg must be a pixel_patrol_base.contracts.Agg")
    if not isinstance(c.description, str) or not c.description.strip():
        raise _fail(what, f"column {c.name!r} needs a description (stored in the report)")


def leaf_type_ok(type_: pa.DataType) -> bool:
    """Whether the rollup can hold a leaf column of this Arrow type (numbers, fixed lists)."""
    if pa.types.is_fixed_size_list(type_):
        type_ = type_.value_type
    return bool(
        pa.types.is_integer(type_) or pa.types.is_floating(type_) or pa.types.is_boolean(type_)
    )


def _check_leaf_rules(cols: Sequence[Column], what: str) -> None:
    """Types and references the rollup (``rollup.aggregate``) can apply."""
    by_name = {c.name: c for c in cols}
    for c in cols:
        where = f"column {c.name!r} ({c.agg})"
        if not leaf_type_ok(c.type):
            raise _fail(what, f"{where}: type {c.type} cannot be rolled up; leaf columns hold"
                        " numbers or fixed-size lists of numbers")
        listy = pa.types.is_fixed_size_list(c.type)
        if listy != (c.agg is Agg.HIST) and c.agg is not Agg.FIRST:
            raise _fail(what, f"{where}: only hist columns are fixed-size lists, and they must be")
        if c.agg in (Agg.MEAN, Agg.STD) and not pa.types.is_floating(c.type):
            raise _fail(what, f"{where}: a mean or std column must have a floating type")
        if c.agg in (Agg.MEAN, Agg.STD):
            _check_ref(by_name, c.weight, "weight", where, what)
        if c.agg is Agg.STD:
            _check_ref(by_name, c.mean, "mean", where, what)
        if c.agg is Agg.SUM_AT_EXTREME:
            _check_ref(by_name, c.extreme, "extreme", where, what)
            if by_name[c.extreme or ""].agg not in (Agg.MIN, Agg.MAX):
                raise _fail(what, f"{where}: its extreme column {c.extreme!r} must use Agg.MIN or Agg.MAX")


def _check_ref(by_name: dict[str, Column], ref: str | None, role: str, where: str, what: str) -> None:
    target = by_name.get(ref or "")
    if target is None:
        raise _fail(what, f"{where}: its {role} column {ref!r} is not among the processor's COLUMNS")
    if pa.types.is_fixed_size_list(target.type):
        raise _fail(what, f"{where}: its {role} column {ref!r} must hold one number per leaf")


def _check_memory_rules(cols: Sequence[Column], what: str) -> None:
    for c in cols:
        if c.internal or c.agg is not Agg.FIRST:
            raise _fail(what, f"column {c.name!r}: a memory processor fills the obs_level-0 row"
                        " only, so its columns use Agg.FIRST and are not internal")


def _check_libraries(cls: Any, what: str) -> None:
    libs = getattr(cls, "LIBRARIES", ())
    if not isinstance(libs, tuple | list) or not all(isinstance(x, str) and x for x in libs):
        raise _fail(what, f"LIBRARIES must be a tuple of distribution names, got {libs!r}")


def check_loader_class(cls: Any, what: str) -> None:
    """Declarations of a loader class; :class:`PluginError` naming ``what`` on the first problem."""
    _check_name(cls, what)
    _check_extensions(cls, "SUPPORTED_EXTENSIONS", what)
    _check_extensions(cls, "FOLDER_EXTENSIONS", what)
    cols = _columns(cls, what)
    for c in cols:
        if c.internal or c.agg is not Agg.FIRST:
            raise _fail(what, f"column {c.name!r}: loader columns are per-image constants;"
                        " use Agg.FIRST and internal=False")
    _check_libraries(cls, what)


def check_processor_class(cls: Any, what: str) -> None:
    """Declarations of a processor class (leaf or memory)."""
    _check_name(cls, what)
    kind = getattr(cls, "KIND", None)
    if kind not in KINDS:
        raise _fail(what, f"KIND must be 'leaf' or 'memory', got {kind!r}")
    if not isinstance(getattr(cls, "NEEDS_RANGE", None), bool):
        raise _fail(what, "NEEDS_RANGE must be declared as True or False")
    cols = _columns(cls, what)
    if not [c for c in cols if not c.internal]:
        raise _fail(what, "COLUMNS declares no report column")
    if kind == "leaf":
        _check_leaf_rules(cols, what)
    else:
        _check_memory_rules(cols, what)
    _check_libraries(cls, what)


def check_instance(obj: Any, role: str, what: str) -> None:
    """Methods callable as the pipeline calls them, and the instance picklable (for workers).

    ``role`` is ``"loader"``, ``"leaf"`` or ``"memory"``.
    """
    for method, n_args in METHODS[role]:
        _check_callable(getattr(obj, method, None), method, n_args, what)
    dataset_dir = getattr(obj, "is_dataset_dir", None)
    if role == "loader" and dataset_dir is not None:
        _check_callable(dataset_dir, "is_dataset_dir", 1, what)
    try:
        pickle.loads(pickle.dumps(obj))
    except Exception as exc:  # any pickling failure means the plugin cannot reach workers
        raise _fail(what, f"instances must pickle to reach worker processes: {type(exc).__name__}: {exc}") from exc


def _check_callable(fn: Callable[..., Any] | None, name: str, n_args: int, what: str) -> None:
    if not callable(fn):
        raise _fail(what, f"method {name}() is missing")
    try:
        inspect.signature(fn).bind(*([None] * n_args))
    except TypeError as exc:
        raise _fail(what, f"{name}() must accept {n_args} positional argument{'s' * (n_args > 1)}: {exc}") from exc
    except ValueError:  # no signature available (builtins): nothing to check
        return


def clashes(owned: Iterable[tuple[str, Column]]) -> tuple[str, str, str] | None:
    """The first column name declared by two owners: ``(name, first owner, second owner)``."""
    seen: dict[str, str] = {}
    for owner, col in owned:
        if col.name in seen and seen[col.name] != owner:
            return col.name, seen[col.name], owner
        seen.setdefault(col.name, owner)
    return None
