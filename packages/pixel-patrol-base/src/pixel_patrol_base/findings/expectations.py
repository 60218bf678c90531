"""The expectations file: what a dataset must look like, and the rules' thresholds (TOML).

Layout (docs/findings.md has a full example)::

    version = 1                       # optional
    [dataset]                         # every condition
    dtype = "uint16"
    size = { X = 2048, Y = 2048, Z = [10, 60] }
    [conditions.treated]              # one condition (overrides [dataset] key by key)
    files_per_condition = [20, 30]
    [thresholds.clipped]              # any rule's settings (RULES in params.py)
    error = 0.005
    [conditions.treated.thresholds.blurry]
    modz = -4.0

Every key is validated before the report is read: an unknown key or a wrong type raises
:class:`ExpectationsError` naming the file and the key, so a typo never passes silently.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pixel_patrol_base.errors import PixelPatrolError
from pixel_patrol_base.findings.params import RULES, Settings, check_value

AXES = ("X", "Y", "Z", "C", "T", "S")
PIXEL_AXES = ("X", "Y", "Z")


class ExpectationsError(PixelPatrolError, ValueError):
    """The expectations file is unreadable or has an unknown key or a wrong type."""


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _range_of(test: Any) -> Any:
    """A validator for 'value or [min, max]' of values passing ``test``."""

    def ok(v: Any) -> bool:
        if test(v):
            return True
        return isinstance(v, list) and len(v) == 2 and all(test(x) for x in v) and v[0] <= v[1]

    return ok


def _str_or_list(v: Any) -> bool:
    return isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v) and len(v) > 0)


def _int_or_list(v: Any) -> bool:
    return _is_int(v) or (isinstance(v, list) and all(_is_int(x) for x in v) and len(v) > 0)


KEYS: dict[str, tuple[Any, str]] = {
    "dtype": (_str_or_list, "a dtype name or a list of them"),
    "dim_order": (_str_or_list, "a dim order (e.g. 'CZYX') or a list of them"),
    "channels": (_range_of(_is_int), "an integer or [min, max]"),
    "channel_names": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "a list of strings"),
    "significant_bits": (_int_or_list, "an integer or a list of integers"),
    "file_extensions": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v) and v, "a list of extensions"),
    "files_per_condition": (_range_of(_is_int), "an integer or [min, max]"),
}
SIZE_CHECK = (_range_of(_is_int), "an integer or [min, max]")
PIXEL_CHECK = (_range_of(_is_num), "a number or [min, max]")


@dataclass(frozen=True, slots=True)
class Spec:
    """Expectations of one scope (the dataset or one condition); only set keys are checked."""

    values: Mapping[str, Any] = field(default_factory=dict)
    size: Mapping[str, Any] = field(default_factory=dict)
    pixel_size: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Expectations:
    """A parsed expectations file."""

    source: str = "expectations"
    dataset: Spec = field(default_factory=Spec)
    conditions: Mapping[str, Spec] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)

    def spec_key(self, condition: str, key: str, part: str = "values") -> Any:
        """The expected value of ``key`` for ``condition`` (its own, else the dataset's)."""
        own = getattr(self.conditions.get(condition, Spec()), part)
        if key in own:
            return own[key]
        return getattr(self.dataset, part).get(key)


def load_expectations(path: str | os.PathLike[str]) -> Expectations:
    """Read and validate an expectations file."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExpectationsError(f"{p}: cannot read the expectations file ({exc.strerror or exc})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ExpectationsError(f"{p}: not valid TOML ({exc})") from exc
    return parse_expectations(data, str(p))


def parse_expectations(data: Mapping[str, Any], source: str = "expectations") -> Expectations:
    """Validate a parsed TOML mapping (the API accepts plain dicts too)."""
    _known(source, "", data, {"version", "dataset", "conditions", "thresholds"})
    version = data.get("version", 1)
    if version != 1:
        raise ExpectationsError(f"{source}: version: only version 1 is understood, got {version!r}")
    dataset = _spec(source, "dataset", _table(source, "dataset", data.get("dataset", {})))
    conditions, by_condition = {}, {}
    for name, body in _table(source, "conditions", data.get("conditions", {})).items():
        where = f"conditions.{name}"
        body = dict(_table(source, where, body))
        thresholds = body.pop("thresholds", {})
        conditions[name] = _spec(source, where, body)
        by_condition[name] = _thresholds(source, f"{where}.thresholds", thresholds)
    overrides = _thresholds(source, "thresholds", data.get("thresholds", {}))
    return Expectations(source, dataset, conditions, Settings(overrides, by_condition))


def _table(source: str, where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ExpectationsError(f"{source}: {where}: expected a table, got {value!r}")
    return value


def _known(source: str, where: str, table: Mapping[str, Any], names: set[str] | Mapping[str, Any]) -> None:
    for key in table:
        if key not in names:
            prefix = f"{where}." if where else ""
            raise ExpectationsError(
                f"{source}: {prefix}{key}: unknown key (known: {', '.join(sorted(names))})"
            )


def _spec(source: str, where: str, body: Mapping[str, Any]) -> Spec:
    _known(source, where, body, {*KEYS, "size", "pixel_size"})
    for key, (test, what) in KEYS.items():
        if key in body and not test(body[key]):
            raise ExpectationsError(f"{source}: {where}.{key}: expected {what}, got {body[key]!r}")
    size = _table(source, f"{where}.size", body.get("size", {}))
    _known(source, f"{where}.size", size, set(AXES))
    _check_all(source, f"{where}.size", size, SIZE_CHECK)
    pixel = dict(_table(source, f"{where}.pixel_size", body.get("pixel_size", {})))
    _known(source, f"{where}.pixel_size", pixel, {*PIXEL_AXES, "unit"})
    unit = pixel.pop("unit", None)
    if unit is not None and not isinstance(unit, str):
        raise ExpectationsError(f"{source}: {where}.pixel_size.unit: expected a string, got {unit!r}")
    _check_all(source, f"{where}.pixel_size", pixel, PIXEL_CHECK)
    if unit is not None:
        pixel["unit"] = unit
    values = {k: v for k, v in body.items() if k in KEYS}
    return Spec(values, dict(size), pixel)


def _check_all(source: str, where: str, table: Mapping[str, Any], check: tuple[Any, str]) -> None:
    test, what = check
    for key, value in table.items():
        if not test(value):
            raise ExpectationsError(f"{source}: {where}.{key}: expected {what}, got {value!r}")


def _thresholds(source: str, where: str, table: Any) -> dict[str, dict[str, Any]]:
    table = _table(source, where, table)
    _known(source, where, table, RULES)
    out: dict[str, dict[str, Any]] = {}
    for rule, params in table.items():
        params = _table(source, f"{where}.{rule}", params)
        _known(source, f"{where}.{rule}", params, RULES[rule])
        for name, value in params.items():
            spec = RULES[rule][name]
            if not check_value(spec.kind, value):
                raise ExpectationsError(
                    f"{source}: {where}.{rule}.{name}: expected {spec.kind}, got {value!r}"
                )
        out[rule] = dict(params)
    return out
