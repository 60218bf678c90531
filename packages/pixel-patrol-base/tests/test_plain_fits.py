"""The quick type check of processor values never accepts what Arrow refuses."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from pixel_patrol_base.plugin_outputs import _plainly_fits

VALUES: list[Any] = [
    None, b"", b"x" * 16384, "", "text", 0.0, 1.5, float("inf"), float("nan"), 0, -1,
    2**63 - 1, 2**63, -(2**63), -(2**63) - 1, True, False, [1, 2], (1.0,),
]
TYPES = [
    pa.binary(), pa.large_binary(), pa.string(), pa.large_string(), pa.float64(), pa.float32(),
    pa.int64(), pa.int32(), pa.uint8(), pa.bool_(), pa.list_(pa.int64()),
]


def _arrow_takes(value: Any, type_: pa.DataType) -> bool:
    try:
        pa.array([value], type=type_)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return False
    return True


@pytest.mark.parametrize("type_", TYPES, ids=str)
def test_quick_check_is_a_subset_of_arrow(type_: pa.DataType) -> None:
    for value in VALUES:
        if _plainly_fits(value, type_):
            assert _arrow_takes(value, type_), (value, type_)


def test_quick_check_takes_the_common_cases() -> None:
    assert _plainly_fits(b"x" * 16384, pa.binary())
    assert _plainly_fits("ab", pa.string()) and _plainly_fits(1.5, pa.float64())
    assert _plainly_fits(7, pa.int64()) and _plainly_fits(True, pa.bool_())
    assert not _plainly_fits(True, pa.int64()) and not _plainly_fits(2**63, pa.int64())
