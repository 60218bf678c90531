"""Paths as report text: a one-to-one escaping of file names that are not valid UTF-8.

File names on Linux are bytes; Arrow strings must be UTF-8. Python reads an undecodable byte
``0xHH`` of a name as the surrogate ``U+DCHH``. In the report such a byte is written as the four
characters ``\\xhh`` (lower-case hex). So that a name that really contains the characters
``\\xff`` stays distinguishable, a backslash is doubled whenever it would otherwise be read as the
start of an escape: when the next character is ``x``, another backslash, or an escaped byte. Every
other path — all valid UTF-8 names without such a backslash, i.e. nearly all — is written as it
is. :func:`decode_path` inverts :func:`encode_path` exactly, so each report path names one file.
"""

from __future__ import annotations

import os
from typing import Any

_HEX = frozenset("0123456789abcdef")


def _surrogate(ch: str) -> bool:
    return "\ud800" <= ch <= "\udfff"


def _plain_utf8(text: str) -> bool:
    """Whether ``text`` holds no surrogate (checked in C: once per discovered file)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # only surrogates cannot be encoded
        return False
    return True


def encode_path(path: str | bytes | os.PathLike[str]) -> str:
    """The report text of ``path`` (a ``str`` from the file system, or raw bytes).

    Examples: ``b"x\\xff.tif"`` → ``x\\xff.tif``; the name ``x\\xff.tif`` (backslash, ``x``, ``f``,
    ``f``) → ``x\\\\xff.tif``; ``a/b.tif`` → ``a/b.tif``.
    """
    text = os.fsdecode(path)
    if "\\" not in text and _plain_utf8(text):
        return text
    out: list[str] = []
    for i, ch in enumerate(text):
        if "\udc80" <= ch <= "\udcff":
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif _surrogate(ch):  # not from a file name on POSIX; keep its bytes, never fail
            out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogatepass"))
        elif ch == "\\":
            nxt = text[i + 1] if i + 1 < len(text) else ""
            out.append("\\\\" if nxt in ("\\", "x") or (nxt and _surrogate(nxt)) else "\\")
        else:
            out.append(ch)
    return "".join(out)


def decode_path(text: str) -> bytes:
    """The exact bytes of the path whose report text is ``text`` (inverse of :func:`encode_path`).

    ``open(decode_path(row["imported_path"]), "rb")`` opens the file a row describes, whatever
    bytes its name holds.
    """
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt == "\\":
                out += b"\\"
                i += 2
                continue
            if nxt == "x" and i + 3 < n and text[i + 2] in _HEX and text[i + 3] in _HEX:
                out.append(int(text[i + 2 : i + 4], 16))
                i += 4
                continue
        out += ch.encode("utf-8", "surrogateescape")
        i += 1
    return bytes(out)


def message_text(text: str) -> str:
    """``text`` made valid UTF-8 for the report: undecodable bytes of a path quoted in a message
    appear as ``\\xhh``; nothing else changes (messages are prose, not paths)."""
    if _plain_utf8(text):
        return text
    return "".join(_quoted(c) if _surrogate(c) else c for c in text)


def _quoted(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def valid_json(value: Any) -> Any:
    """A JSON-like value (footer metadata) whose texts are all valid UTF-8 (:func:`message_text`).

    Texts from the command line may hold undecodable bytes too (a description, a project name
    taken from a folder name).
    """
    if isinstance(value, str):
        return message_text(value)
    if isinstance(value, dict):
        return {valid_json(k): valid_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [valid_json(v) for v in value]
    return value


__all__ = ["decode_path", "encode_path", "message_text", "valid_json"]
