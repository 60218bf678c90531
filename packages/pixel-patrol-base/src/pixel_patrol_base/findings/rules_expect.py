"""``expectation``: every violation of the user's expectations file, as an error.

Each expected key is checked on the processed images (obs_level 0) of every condition, with a
condition's own value replacing the dataset-wide one. One finding per key and condition names
the files that break it, what they hold and what was expected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pixel_patrol_base.findings.build import Text, finding, plural
from pixel_patrol_base.findings.context import Context
from pixel_patrol_base.findings.expectations import AXES, PIXEL_AXES, Expectations
from pixel_patrol_base.findings.model import Finding
from pixel_patrol_base.findings.rules_metadata import channel_names

ACTION = "Fix or remove these files, or update the expectations file if the data is right."


def _allowed(expected: Any) -> list[Any]:
    return expected if isinstance(expected, list) else [expected]


def _in_range(values: np.ndarray, expected: Any) -> np.ndarray:
    """Whether each value is the expected number or inside [min, max] (NaN: never)."""
    if isinstance(expected, list):
        result: np.ndarray = (values >= expected[0]) & (values <= expected[1])
        return result
    result = values == expected
    return result


def _show(expected: Any) -> str:
    if isinstance(expected, list) and len(expected) == 2 and all(isinstance(v, int | float) for v in expected):
        return f"{expected[0]}–{expected[1]}"
    if isinstance(expected, list):
        return ", ".join(str(v) for v in expected)
    return str(expected)


def expectation(ctx: Context, exp: Expectations) -> list[Finding]:
    """All violations of ``exp`` in the report."""
    f = ctx.frame
    rows = f.image_rows
    by_cond = {ctx.cond_label(int(c)): rows[f.cond.codes[rows] == c] for c in np.unique(f.cond.codes[rows])}
    out: list[Finding] = []
    for key, checker in _checks(ctx).items():
        part, name = key
        for cond, sel in sorted(by_cond.items()):
            expected = exp.spec_key(cond, name, part)
            if expected is None:
                continue
            bad, shown = checker(sel, expected)
            if bad.any():
                out.append(_violation(ctx, _label(part, name), sel[bad], shown, expected, cond))
    return out + _file_counts(ctx, exp) + _unknown_conditions(ctx, exp)


Checker = Callable[[np.ndarray, Any], tuple[np.ndarray, list[Any]]]
"""(rows, expected) → (bad mask over rows, what each bad row holds)."""


def _label(part: str, name: str) -> str:
    return {"values": name, "size": f"size.{name}", "pixel_size": f"pixel_size.{name}"}[part]


def _checks(ctx: Context) -> dict[tuple[str, str], Checker]:
    f = ctx.frame
    dtype, order, ext = f.strings("dtype"), f.strings("dim_order"), f.strings("file_extension")
    unit, names = f.strings("pixel_size_unit"), channel_names(ctx)

    def strings(codes: Any, norm: Callable[[str], str] = str) -> Checker:
        def check(sel: np.ndarray, expected: Any) -> tuple[np.ndarray, list[Any]]:
            want = {norm(v) for v in _allowed(expected)}
            ok = np.array([norm(v) in want for v in codes.values] + [False], dtype=bool)
            bad = ~ok[codes.codes[sel]]
            return bad, [codes.at(int(i)) for i in sel[bad]]
        return check

    def numbers(column: str, absent: float = np.nan) -> Checker:
        def check(sel: np.ndarray, expected: Any) -> tuple[np.ndarray, list[Any]]:
            v = f.num(column)[sel]
            v = np.where(np.isnan(v), absent, v)
            if isinstance(expected, list) and column == "significant_bits":
                ok = np.isin(v, expected)
            else:
                ok = _in_range(v, expected)
            return ~ok, [None if np.isnan(x) else float(x) for x in v[~ok]]
        return check

    def channel_list(sel: np.ndarray, expected: Any) -> tuple[np.ndarray, list[Any]]:
        ok = np.array([v == "|".join(expected) for v in names.values] + [False], dtype=bool)
        bad = ~ok[names.codes[sel]]
        return bad, [names.at(int(i)) for i in sel[bad]]

    checks: dict[tuple[str, str], Checker] = {
        ("values", "dtype"): strings(dtype),
        ("values", "dim_order"): strings(order, str.upper),
        ("values", "file_extensions"): strings(ext, lambda s: s.lower().lstrip(".")),
        ("values", "channels"): numbers("C_size", 1.0),
        ("values", "channel_names"): channel_list,
        ("values", "significant_bits"): numbers("significant_bits"),
    }
    # an image without an axis has extent 1 along it (the report leaves its *_size empty)
    checks.update({("size", a): numbers(f"{a}_size", 1.0) for a in AXES})
    checks.update({("pixel_size", a): numbers(f"pixel_size_{a}") for a in PIXEL_AXES})
    checks[("pixel_size", "unit")] = strings(unit)
    return checks


def _violation(ctx: Context, label: str, rows: np.ndarray, got: list[Any], expected: Any, cond: str) -> Finding:
    f = ctx.frame
    shown = sorted({"none" if g is None else str(g) for g in got})
    text = Text(
        lambda r: f"{label}: {plural(len(r), 'image')} hold {', '.join(shown[:3])}{', …' if len(shown) > 3 else ''}; expected {_show(expected)}",
        ACTION,
    )
    return finding(f, "expectation", "error", rows, text, value=shown[0], threshold=_show(expected), evidence=got, condition=cond)


def _file_counts(ctx: Context, exp: Expectations) -> list[Finding]:
    f = ctx.frame
    out = []
    for code, cond in enumerate(f.cond.values):
        expected = exp.spec_key(cond, "files_per_condition")
        if expected is None:
            continue
        rows = np.flatnonzero((f.cond.codes == code) & (f.obs == 0))
        n = len(np.unique(f.path.codes[rows]))
        if bool(_in_range(np.array([n]), expected)[0]):
            continue
        text = Text(lambda r, n=n, e=expected: f"files_per_condition: the condition holds {plural(n, 'file')}; expected {_show(e)}", ACTION)
        out.append(finding(f, "expectation", "error", rows, text, value=n, threshold=_show(expected), condition=cond, scope="condition"))
    return out


def _unknown_conditions(ctx: Context, exp: Expectations) -> list[Finding]:
    f = ctx.frame
    out = []
    for cond in exp.conditions:
        if cond in f.cond.values:
            continue
        text = Text(lambda r, c=cond: f"condition {c!r} of the expectations file is not in the report", "Check the -p folders of the scan and the condition names in the expectations file.")
        out.append(finding(f, "expectation", "error", np.zeros(0, dtype=np.int64), text, value=cond, threshold="present", condition=cond, scope="condition"))
    return out
