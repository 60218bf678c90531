"""docs/api.md must show every public API function with its real signature.

The table in docs/api.md is what notebook users read instead of the source; a parameter added
to the code but not to the page (``task_timeout`` once was) is an option nobody finds. Each
public function's row starts with its call signature, which is parsed here and compared with
``inspect.signature``: names, order, keyword-only marker and default values.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from pixel_patrol_base import api

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
ROW = re.compile(r"^\| `(?P<name>\w+)\((?P<params>[^`]*)\)` \|", re.MULTILINE)


def _documented() -> dict[str, str]:
    return {m["name"]: m["params"] for m in ROW.finditer(DOC.read_text(encoding="utf-8"))}


def _doc_params(params: str) -> list[tuple[str, str, object]]:
    """(name, kind, default) of each documented parameter, parsed as a Python signature."""
    args = ast.parse(f"def f({params}): pass").body[0].args  # type: ignore[attr-defined]
    positional = args.posonlyargs + args.args
    defaults = [inspect.Parameter.empty] * (len(positional) - len(args.defaults)) + [
        ast.literal_eval(d) for d in args.defaults
    ]
    out = [(a.arg, "positional", d) for a, d in zip(positional, defaults, strict=True)]
    for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        out.append((a.arg, "keyword", inspect.Parameter.empty if d is None else ast.literal_eval(d)))
    return out


def _code_params(func: object) -> list[tuple[str, str, object]]:
    out = []
    for p in inspect.signature(func).parameters.values():  # type: ignore[arg-type]
        kind = "keyword" if p.kind is inspect.Parameter.KEYWORD_ONLY else "positional"
        out.append((p.name, kind, p.default))
    return out


@pytest.mark.parametrize("name", sorted(api.__all__))
def test_every_public_function_is_documented_with_its_signature(name: str) -> None:
    documented = _documented()
    assert name in documented, f"docs/api.md has no row for api.{name}"
    assert _doc_params(documented[name]) == _code_params(getattr(api, name))


def test_the_parser_sees_a_changed_default() -> None:
    """The comparison fails on a wrong default, so the test above can fail."""
    params = _documented()["process_files"].replace("task_timeout=3600.0", "task_timeout=60.0")
    assert _doc_params(params) != _code_params(api.process_files)
