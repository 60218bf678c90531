"""``--omit-base-dir``: no absolute base path in any text of the report or of the log.

Paths the report writes itself are relative already. But readers, the operating system and
Python quote the file they failed on in their messages (``[Errno 13] Permission denied:
'/data/secret/a.tif'``), so every text is rewritten at the point it leaves for the report or the
log: the base folder followed by a separator is removed (``a.tif``), the base folder alone
becomes ``.``. The base is matched in every form a message may quote it: as is, as Python's
``repr`` shows it, and in the report's escaping of non-UTF-8 names.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from pixel_patrol_base.pathtext import encode_path, message_text
from pixel_patrol_base.schema import INTERNAL_FIELDS

ELLIPSIS = "…"


def base_forms(base_dir: str | os.PathLike[str]) -> tuple[str, ...]:
    """The texts that stand for ``base_dir`` in messages, longest first (none for ``/``)."""
    base = os.fspath(base_dir)
    if Path(base).parent == Path(base):
        return ()  # paths relative to the file system root reveal nothing more
    forms = {message_text(base), repr(base)[1:-1], encode_path(base)}
    return tuple(sorted(forms, key=len, reverse=True))


_BEFORE = r"(?:^|(?<=[\s'\"(\[{<=:,;`])|(?<=://))"
"""Where a quoted absolute path can start: at the start, after a quote, bracket, space,
punctuation, or ``scheme://``. Never inside another path (``raw/data/x`` keeps ``/data``)."""

_AFTER = r"(?=$|[\s'\")\]}>,;:`])"


@cache
def _patterns(forms: tuple[str, ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    seps = "".join(sorted({re.escape(os.sep), re.escape(os.altsep or os.sep), "/"}))
    out = []
    for form in forms:
        f = re.escape(form)
        out.append((re.compile(f"{_BEFORE}{f}[{seps}]+"), ""))
        out.append((re.compile(f"{_BEFORE}{f}{_AFTER}"), "."))
    return tuple(out)


def relative_text(text: str, forms: tuple[str, ...]) -> str:
    """``text`` with every quoted base folder made relative (see the module docstring)."""
    if any(form in text for form in forms):
        for pattern, repl in _patterns(forms):
            text = pattern.sub(repl, text)
    if text.endswith(ELLIPSIS):
        text = _cut_partial_tail(text, forms)
    return text


def _cut_partial_tail(text: str, forms: tuple[str, ...]) -> str:
    """A message shortened to its limit may end in the first characters of the base folder."""
    body = text[: -len(ELLIPSIS)]
    for form in forms:
        for n in range(len(form) - 1, 1, -1):
            start = len(body) - n
            if body.endswith(form[:n]) and _starts_quoted(body, start):
                return body[:start] + ELLIPSIS
    return text


def _starts_quoted(body: str, start: int) -> bool:
    return start == 0 or body[start - 1] in " \t\n'\"([{<=:,;`" or body[:start].endswith("://")


def relative_table(table: pa.Table, forms: tuple[str, ...]) -> pa.Table:
    """Every text column of ``table`` (lists of texts too) made relative; internal columns kept."""
    if not forms:
        return table
    for i, field in enumerate(table.schema):
        if field.name in INTERNAL_FIELDS or not _has_text(field.type):
            continue
        column = table.column(i)
        if column.null_count == len(column):
            continue
        table = table.set_column(i, field, pa.chunked_array([_relative_array(column.combine_chunks(), forms)]))
    return table


def _has_text(t: pa.DataType) -> bool:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return True
    return (pa.types.is_list(t) or pa.types.is_large_list(t)) and _has_text(t.value_type)


def _relative_array(array: pa.Array, forms: tuple[str, ...]) -> pa.Array:
    """Texts are rewritten in Python, but only those that contain a base form or may end in
    one cut short; finding them is vectorised, so clean columns cost one scan each."""
    import pyarrow.compute as pc  # imported here: only --omit-base-dir runs get here

    if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
        values = _relative_array(array.values, forms)
        return type(array).from_arrays(array.offsets, values, mask=array.is_null())
    hit = pc.ends_with(array, ELLIPSIS)
    for form in forms:
        hit = pc.or_(hit, pc.match_substring(array, form))
    if not pc.any(hit).as_py():
        return array
    values = array.to_pylist()
    flags = hit.to_pylist()
    fixed = [relative_text(v, forms) if f else v for v, f in zip(values, flags, strict=True)]
    return pa.array(fixed, array.type)


def relative_json(value: Any, forms: tuple[str, ...]) -> Any:
    """A footer value (JSON-like) with every text made relative."""
    if isinstance(value, str):
        return relative_text(value, forms)
    if isinstance(value, Mapping):
        return {relative_text(str(k), forms): relative_json(v, forms) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [relative_json(v, forms) for v in value]
    return value


class RelativeFormatter(logging.Formatter):
    """A log formatter whose lines (tracebacks included) quote no absolute base folder."""

    def __init__(self, fmt: str, forms: tuple[str, ...]) -> None:
        super().__init__(fmt)
        self.forms = forms

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record, made relative."""
        return relative_text(super().format(record), self.forms)


__all__ = [
    "RelativeFormatter",
    "base_forms",
    "relative_json",
    "relative_table",
    "relative_text",
]
