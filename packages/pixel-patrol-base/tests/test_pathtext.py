"""Report paths are a one-to-one text form of file-system paths, whatever bytes a name holds."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixel_patrol_base.discovery import safe_text
from pixel_patrol_base.pathtext import decode_path, encode_path

posix_only = pytest.mark.skipif(os.name != "posix", reason="file names are bytes on POSIX only")
raw_paths = st.binary(min_size=0, max_size=40).filter(lambda b: b"\0" not in b)


@posix_only
@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"a/b.tif", "a/b.tif"),
        ("caf\u00e9/\u00b5m.tif".encode(), "caf\u00e9/\u00b5m.tif"),
        (b"x\xff.tif", "x\\xff.tif"),
        (b"x\\xff.tif", "x\\\\xff.tif"),
        (b"C:\\data\\a.tif", "C:\\data\\a.tif"),
        (b"a\\\\b", "a\\\\\\b"),
        (b"a\\\xfe", "a\\\\\\xfe"),
        (b"end\\", "end\\"),
    ],
    ids=["plain", "utf8", "byte-ff", "literal-backslash-x", "backslash-letter", "two-backslashes", "backslash-then-byte", "trailing-backslash"],
)
def test_known_escapes(raw: bytes, text: str) -> None:
    assert encode_path(os.fsdecode(raw)) == text
    assert decode_path(text) == raw


@posix_only
def test_byte_ff_and_literal_escape_text_differ() -> None:
    a = os.fsdecode(b"/d/x\xff.tif")
    b = "/d/x\\xff.tif"
    assert safe_text(a) != safe_text(b)
    assert decode_path(safe_text(a)) == b"/d/x\xff.tif"
    assert decode_path(safe_text(b)) == b"/d/x\\xff.tif"


@posix_only
@given(raw_paths)
def test_round_trip(raw: bytes) -> None:
    text = safe_text(os.fsdecode(raw))
    text.encode("utf-8")  # valid UTF-8: an Arrow string
    assert decode_path(text) == raw


@posix_only
@given(raw_paths, raw_paths)
def test_one_to_one(a: bytes, b: bytes) -> None:
    if a != b:
        assert safe_text(os.fsdecode(a)) != safe_text(os.fsdecode(b))


@given(st.text().filter(lambda s: "\\" not in s and s.isprintable()))
def test_ordinary_text_is_unchanged(s: str) -> None:
    assert safe_text(s) == s


@posix_only
def test_basename_text_is_the_tail_of_the_path_text() -> None:
    raw = os.fsdecode(b"/base/d\\\xfe/x\\\\\xff.tif")
    assert safe_text(raw).endswith("/" + safe_text(os.path.basename(raw)))
